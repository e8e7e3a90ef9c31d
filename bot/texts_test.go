package bot

import "testing"

// TestFieldParser: plain insertions are rendered by concatenation, anything
// else by text/template, with the same data either way.
func TestFieldParser(t *testing.T) {
	tests := []struct {
		src  string
		data any
		want string
	}{
		{"Hallo {{.Name}}, {{ .N }}/7", kvData{"Name", "Anna", "N", 3}, "Hallo Anna, 3/7"},
		{"{{.Missing}}!", kvData{"Name", "Anna"}, "<no value>!"},
		{"no fields", nil, "no fields"},
		{"{{if .Late}}spät{{else}}pünktlich{{end}}", kvData{"Late", true}, "spät"},
		{"{{.Count}} Punkte", map[string]any{"Count": 2}, "2 Punkte"},
	}
	for _, tt := range tests {
		pt, err := fields.Parse(tt.src, "", "")
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.src, err)
		}
		got, err := pt.Execute(tt.data)
		if err != nil || got != tt.want {
			t.Errorf("Execute(%q): got %q, %v, want %q", tt.src, got, err, tt.want)
		}
	}
}
