package console

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ampel-bot/ampel/bot"
)

// save writes files into dir (the working directory if empty) and returns
// their absolute paths. A file never replaces one that is there (an
// earlier export of the same day, maybe edited since): it is named
// "name-2.ext", "name-3.ext" and so on. Only the base of a file's name is
// used, so nothing is written outside dir. If a file cannot be written,
// those written before it are removed and the error returned: the
// message stays in the outbox and is sent again, whole.
func save(dir string, files []bot.File) ([]string, error) {
	if len(files) == 0 {
		return nil, nil
	}
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("console: where to write files: %w", err)
	}
	var paths []string
	for _, f := range files {
		path, err := create(abs, f)
		if err != nil {
			for _, p := range paths {
				os.Remove(p)
			}
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// maxSameName bounds the numbered names tried for one file.
const maxSameName = 1000

// create writes f into dir under the first free name.
func create(dir string, f bot.File) (string, error) {
	name := filepath.Base(filepath.Clean("/" + f.Name))
	if name == "/" || name == "." {
		name = "file"
	}
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 1; i <= maxSameName; i++ {
		path := filepath.Join(dir, name)
		if i > 1 {
			path = filepath.Join(dir, stem+"-"+strconv.Itoa(i)+ext)
		}
		// Private, as the database is: a plan names people.
		out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("console: write %s: %w", name, err)
		}
		_, err = out.Write(f.Data)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return "", fmt.Errorf("console: write %s: %w", name, err)
		}
		return path, nil
	}
	return "", fmt.Errorf("console: write %s: %d files of that name in %s already", name, maxSameName, dir)
}
