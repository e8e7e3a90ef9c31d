package export

import (
	"bytes"
	"errors"

	"codeberg.org/go-pdf/fpdf"

	"github.com/ampel-bot/ampel/bot"
)

// The page, in millimetres: A4 landscape, as plans are printed (seven
// columns need the width), with margins wide enough for any printer.
const (
	pageMargin   = 15
	footerSpace  = 14
	cellPad      = 1.5
	tableSize    = 9   // points
	tableLine    = 4.2 // mm per line of table text
	narrowColMax = 40  // the widest a column of short values grows
)

var (
	pdfInk  = [3]int{0x1a, 0x1a, 0x1a}
	pdfGrey = [3]int{0x5c, 0x5c, 0x5c}
	pdfRule = [3]int{0xc8, 0xc8, 0xc8}
	pdfHead = [3]int{0xee, 0xee, 0xee}
)

// PDF writes the action plan as a printable A4 document: the plan's title,
// the check, a team's name, the date and the result picture (with Run) on
// the first page, then the measures as a table (checkpoint, measure,
// priority, responsible, start, review, status) whose header repeats on
// every page.
func PDF(in Input) (bot.File, error) {
	if in.Flow == nil || in.Texts == nil {
		return bot.File{}, errors.New("export: a PDF needs texts and a flow")
	}
	fs, err := loadFonts()
	if err != nil {
		return bot.File{}, err
	}
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(in.Now.UTC()) // written without a zone: read as UTC
	pdf.SetModificationDate(in.Now.UTC())
	pdf.SetCompression(true)
	pdf.SetLang(in.Lang)
	pdf.AddUTF8FontFromBytes("dejavu", "", regularTTF)
	pdf.AddUTF8FontFromBytes("dejavu", "B", boldTTF)
	pdf.SetMargins(pageMargin, pageMargin, pageMargin)
	pdf.SetAutoPageBreak(false, footerSpace)
	pdf.SetCellMargin(cellPad)
	pdf.SetLineWidth(0.2)

	title := fs.clean(in.t("export.plan.title"))
	check := fs.clean(in.t(in.Flow.TitleID()))
	date := fs.clean(in.t("export.made", "Date", in.date(in.today())))
	pdf.SetTitle(fs.clean(in.t("export.pdf.title", "Plan", title, "Check", check)), true)
	const nb = "{nb}"
	pdf.AliasNbPages(nb)
	pdf.SetFooterFunc(func() {
		_, h := pdf.GetPageSize()
		pdf.SetFont("dejavu", "", 8)
		setColor(pdf.SetTextColor, pdfGrey)
		pdf.SetXY(pageMargin, h-pageMargin+2)
		pdf.CellFormat(0, 4, fs.clean(in.t("export.pdf.footer", "Check", check, "Made", date)), "", 0, "L", false, 0, "")
		pdf.SetXY(pageMargin, h-pageMargin+2)
		pdf.CellFormat(0, 4, fs.clean(in.t("export.page", "Page", pdf.PageNo(), "Pages", nb)), "", 0, "R", false, 0, "")
	})
	pdf.AddPage()

	// The heading.
	text := func(size float64, style string, col [3]int, s string, lh float64) {
		pdf.SetFont("dejavu", style, size)
		setColor(pdf.SetTextColor, col)
		pdf.SetCellMargin(0)
		pdf.MultiCell(0, lh, s, "", "L", false)
		pdf.SetCellMargin(cellPad)
	}
	text(18, "B", pdfInk, title, 8)
	text(12, "", pdfInk, check, 6)
	if in.Owner != "" {
		text(11, "", pdfInk, fs.clean(in.Owner), 5.5)
	}
	text(10, "", pdfGrey, date, 5)
	pdf.Ln(4)

	if in.Run != nil {
		img, err := in.draw(fs)
		if err != nil {
			return bot.File{}, err
		}
		size := img.Bounds().Size()
		data, err := encodePNG(img)
		if err != nil {
			return bot.File{}, err
		}
		// As large as the first page holds, centred.
		pageW, pageH := pdf.GetPageSize()
		h := pageH - footerSpace - pageMargin - pdf.GetY()
		w := h * float64(size.X) / float64(size.Y)
		if full := pageW - 2*pageMargin; w > full {
			w, h = full, full*float64(size.Y)/float64(size.X)
		}
		opt := fpdf.ImageOptions{ImageType: "PNG"}
		pdf.RegisterImageOptionsReader("result", opt, bytes.NewReader(data))
		pdf.ImageOptions("result", (pageW-w)/2, pdf.GetY(), w, h, false, opt, 0, "")
		pdf.AddPage()
	}

	rows := in.rows()
	if len(rows) == 0 {
		text(10, "", pdfInk, fs.clean(in.t("export.plan.empty")), 5)
	} else {
		in.table(pdf, fs, rows)
	}

	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return bot.File{}, err
	}
	return bot.File{Name: in.fileName("export.file.plan", "pdf"), MIME: "application/pdf", Data: out.Bytes()}, nil
}

func setColor(set func(r, g, b int), c [3]int) { set(c[0], c[1], c[2]) }

// table writes the measures, one row each, breaking pages between rows
// and repeating the header on each page.
func (in *Input) table(pdf *fpdf.Fpdf, fs *fonts, rows []row) {
	head := []string{
		in.t("export.col.checkpoint"), in.t("export.col.measure"), in.t("export.col.priority"),
		in.t("export.col.responsible"), in.t("export.col.start"), in.t("export.col.review"), in.t("export.col.status"),
	}
	for i := range head {
		head[i] = fs.clean(head[i])
	}
	cells := make([][]string, len(rows))
	for i, r := range rows {
		cp := r.checkpoint
		if r.m.Flow != in.Flow.ID && r.check != "" {
			cp = in.t("export.pdf.othercheck", "Check", r.check, "Checkpoint", cp)
		}
		cells[i] = []string{cp, r.text, r.priority, r.resp, r.start, r.review, r.status}
		for j := range cells[i] {
			cells[i][j] = fs.clean(cells[i][j])
		}
	}

	// Short values get what they need, up to narrowColMax; the checkpoint
	// and the measure share the rest.
	pageW, pageH := pdf.GetPageSize()
	full := pageW - 2*pageMargin
	widths := make([]float64, len(head))
	rest := full
	for j := 2; j < len(head); j++ {
		pdf.SetFont("dejavu", "B", tableSize)
		w := pdf.GetStringWidth(head[j])
		pdf.SetFont("dejavu", "", tableSize)
		for _, c := range cells {
			w = max(w, pdf.GetStringWidth(c[j]))
		}
		widths[j] = min(w+2*cellPad+0.5, narrowColMax)
		rest -= widths[j]
	}
	widths[0] = rest * 0.38
	widths[1] = rest - widths[0]

	bottom := pageH - footerSpace - pageMargin/2
	// layout wraps a row's cells and returns their lines and the row's height.
	layout := func(cells []string, style string) ([][]string, float64) {
		pdf.SetFont("dejavu", style, tableSize)
		lines := make([][]string, len(cells))
		n := 1
		for j, c := range cells {
			lines[j] = pdf.SplitText(c, widths[j])
			n = max(n, len(lines[j]))
		}
		return lines, float64(n)*tableLine + 2*cellPad
	}
	var draw func(cells []string, style string, fill bool, col [3]int)
	draw = func(cells []string, style string, fill bool, col [3]int) {
		lines, h := layout(cells, style)
		if pdf.GetY()+h > bottom {
			pdf.AddPage()
			if !fill {
				draw(head, "B", true, pdfInk) // the header again
			}
		}
		y := pdf.GetY()
		x := float64(pageMargin)
		setColor(pdf.SetDrawColor, pdfRule)
		setColor(pdf.SetFillColor, pdfHead)
		setColor(pdf.SetTextColor, col)
		rect := "D"
		if fill {
			rect = "FD"
		}
		for j := range cells {
			pdf.Rect(x, y, widths[j], h, rect)
			for k, l := range lines[j] {
				pdf.SetXY(x, y+cellPad+float64(k)*tableLine)
				pdf.CellFormat(widths[j], tableLine, l, "", 0, "L", false, 0, "")
			}
			x += widths[j]
		}
		pdf.SetXY(pageMargin, y+h)
	}
	draw(head, "B", true, pdfInk)
	for i, c := range cells {
		col := pdfInk
		if rows[i].m.Status == bot.StatusDone {
			col = pdfGrey
		}
		draw(c, "", false, col)
	}
}
