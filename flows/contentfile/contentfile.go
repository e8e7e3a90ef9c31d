// Package contentfile reads the content files a network may bring (flows and
// locales, in TOML) so that no file can hang or exhaust the process: only
// regular files are opened, no more than MaxSize bytes are read, and TOML
// nested deeper than MaxDepth is refused before a parser sees it (the TOML
// library takes time that grows much faster than the file with the depth of
// nested tables and dotted keys: 32 KB of dotted keys took 46 s).
package contentfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

const (
	// MaxSize bounds one file. A flow or locale file is a few KB (the
	// shipped ones at most 13 KB); the TOML parser takes about a second
	// for 256 KiB of many small tables on a busy small server.
	MaxSize = 256 << 10
	// MaxDepth bounds how deeply tables, inline tables, arrays and dotted
	// keys nest. Flows need 2, locales 2, or 5 with message IDs written as
	// nested tables.
	MaxDepth = 8
)

// Read returns the content of the file name in fsys, if it is a regular file
// (or a link to one) of at most MaxSize bytes. Its errors say why not, for
// a message after the file's name.
func Read(fsys fs.FS, name string) ([]byte, error) {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if err := regular(st); err != nil {
		return nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if err := regular(st); err != nil { // replaced since the first look
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("larger than %d KiB; a content file is a few KB", MaxSize>>10)
	}
	return data, nil
}

func regular(st fs.FileInfo) error {
	m := st.Mode()
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return errors.New("not a regular file but a directory")
	case m&fs.ModeNamedPipe != 0:
		return errors.New("not a regular file but a named pipe")
	case m&(fs.ModeDevice|fs.ModeCharDevice) != 0:
		return errors.New("not a regular file but a device")
	case m&fs.ModeSocket != 0:
		return errors.New("not a regular file but a socket")
	}
	return errors.New("not a regular file")
}

// DepthError is TOML nested deeper than MaxDepth.
type DepthError struct {
	Line, Col int
}

func (e *DepthError) Error() string {
	return fmt.Sprintf("nested more than %d deep (tables, arrays and dotted keys together)", MaxDepth)
}

// CheckDepth scans TOML without parsing it and refuses nesting deeper than
// MaxDepth, counting what makes a table or array one level deeper: the
// parts of a [table] header, the dots of a dotted key, and every array and
// inline table, outside strings and comments. It is linear in the file's
// size.
func CheckDepth(data []byte) error {
	type frame struct {
		kind  byte // '{' inline table, '[' array, 'h' table header
		depth int  // how deep its content is
	}
	var (
		stack     []frame
		line, col = 1, 0
		header    = 0    // depth of the keys under the current [table]
		dots      = 0    // dots of the key being read
		valueDots = 0    // dots of the key whose value is being read
		key       = true // reading a key (before '=')
	)
	base := func() int {
		if len(stack) == 0 {
			return header
		}
		return stack[len(stack)-1].depth
	}
	top := func() byte {
		if len(stack) == 0 {
			return 0
		}
		return stack[len(stack)-1].kind
	}
	check := func(d int) error {
		if d > MaxDepth {
			return &DepthError{Line: line, Col: col}
		}
		return nil
	}
	push := func(kind byte) error {
		d := base() + valueDots + 1
		valueDots = 0
		stack = append(stack, frame{kind, d})
		return check(d)
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		col++
		var err error
		switch c {
		case '\n':
			line, col = line+1, 0
			if len(stack) == 0 {
				key, dots, valueDots = true, 0, 0
			}
		case '#':
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case '"', '\'':
			end := skipString(data, i)
			for _, b := range data[i:end] {
				if b == '\n' {
					line, col = line+1, 0
				}
			}
			col += end - i - 1
			i = end - 1
		case '=':
			if key {
				key, valueDots, dots = false, dots, 0
			}
		case '.':
			if key {
				dots++
				err = check(base() + dots)
			}
		case '[':
			if len(stack) == 0 && key { // a [table] or [[array of tables]] header
				stack = append(stack, frame{'h', 0})
				dots = 0
				if i+1 < len(data) && data[i+1] == '[' {
					i, col = i+1, col+1
				}
				continue
			}
			err = push('[')
		case ']':
			switch top() {
			case 'h':
				stack = stack[:len(stack)-1]
				header, dots, key = dots+1, 0, false
				err = check(header)
				if i+1 < len(data) && data[i+1] == ']' {
					i, col = i+1, col+1
				}
			case '[':
				stack = stack[:len(stack)-1]
			}
		case '{':
			err = push('{')
			key, dots = true, 0
		case '}':
			if top() == '{' {
				stack = stack[:len(stack)-1]
			}
			key, dots, valueDots = false, 0, 0
		case ',':
			valueDots = 0
			if top() == '{' {
				key, dots = true, 0
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// skipString returns the index just after the string starting at data[i]:
// basic or literal, on one line or multi-line. An unclosed string runs to
// the end (of the line or the file); the parser reports it.
func skipString(data []byte, i int) int {
	q := data[i]
	if i+2 < len(data) && data[i+1] == q && data[i+2] == q { // """ or '''
		for j := i + 3; j+2 < len(data); j++ {
			if q == '"' && data[j] == '\\' {
				j++
				continue
			}
			if data[j] == q && data[j+1] == q && data[j+2] == q {
				for j+3 < len(data) && data[j+3] == q { // up to two quotes may end the content
					j++
				}
				return j + 3
			}
		}
		return len(data)
	}
	for j := i + 1; j < len(data); j++ {
		switch {
		case q == '"' && data[j] == '\\':
			j++
		case data[j] == q:
			return j + 1
		case data[j] == '\n':
			return j
		}
	}
	return len(data)
}
