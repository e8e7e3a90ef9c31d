package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// memWatch samples the process's resident memory during a benchmark and
// keeps the Go runtime's own accounting from the moment it peaked, so that
// `ampel bench --memory` can say what the peak was made of. Linux only;
// elsewhere it reports nothing.
type memWatch struct {
	done chan struct{}
	fin  chan struct{}
	peak memSample
}

type memSample struct {
	anonKB, fileKB int64
	rt             []metrics.Sample
}

var memMetrics = []string{
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/live:bytes",
	"/gc/heap/goal:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/metadata/other:bytes",
	"/memory/classes/metadata/mspan/inuse:bytes",
	"/memory/classes/metadata/mcache/inuse:bytes",
	"/memory/classes/other:bytes",
}

func watchMemory() *memWatch {
	w := &memWatch{done: make(chan struct{}), fin: make(chan struct{})}
	go func() {
		defer close(w.fin)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			anon, file := rssKinds()
			if anon+file > w.peak.anonKB+w.peak.fileKB {
				w.peak.anonKB, w.peak.fileKB = anon, file
				if w.peak.rt == nil {
					w.peak.rt = make([]metrics.Sample, len(memMetrics))
					for i, n := range memMetrics {
						w.peak.rt[i].Name = n
					}
				}
				metrics.Read(w.peak.rt)
			}
			select {
			case <-w.done:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *memWatch) stop() { close(w.done); <-w.fin }

// report writes what the sampled peak was made of, and which files the
// file-backed part maps now.
func (w *memWatch) report(out io.Writer, dbPath string) {
	if w.peak.rt == nil {
		return
	}
	mb := func(kb int64) float64 { return float64(kb) / 1024 }
	rt := map[string]float64{}
	for _, s := range w.peak.rt {
		if s.Value.Kind() == metrics.KindUint64 {
			rt[s.Name] = float64(s.Value.Uint64()) / (1 << 20)
		}
	}
	fmt.Fprintf(out, "memory at the sampled peak: %.1f MB resident = %.1f anonymous + %.1f file-backed\n",
		mb(w.peak.anonKB+w.peak.fileKB), mb(w.peak.anonKB), mb(w.peak.fileKB))
	fmt.Fprintf(out, "  anonymous: heap objects %.1f (live at the last GC %.1f, next GC at %.1f), goroutine stacks %.1f, free heap %.1f, runtime %.1f\n",
		rt[memMetrics[0]], rt[memMetrics[1]], rt[memMetrics[2]], rt[memMetrics[3]],
		rt[memMetrics[4]]+rt[memMetrics[5]], rt[memMetrics[6]]+rt[memMetrics[7]]+rt[memMetrics[8]]+rt[memMetrics[9]])
	exe, _ := os.Executable()
	prog, db, other := mappedKB(exe, dbPath)
	fmt.Fprintf(out, "  file-backed at the end: program %.1f, database %.1f, other %.1f\n", mb(prog), mb(db), mb(other))
}

// rssKinds reads RssAnon and RssFile, in kB.
func rssKinds() (anon, file int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "RssAnon:":
			anon, _ = strconv.ParseInt(f[1], 10, 64)
		case "RssFile:":
			file, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return anon, file
}

// mappedKB sums the resident file-backed pages of the program, the
// database and everything else (shared libraries), in kB.
func mappedKB(exe, dbPath string) (prog, db, other int64) {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, 0, 0
	}
	exe, _ = filepath.EvalSymlinks(exe)
	dbPath, _ = filepath.Abs(dbPath)
	var file string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			file = ""
			if len(f) >= 6 && f[4] != "0" {
				file = f[5]
			}
			continue
		}
		if file == "" || len(f) < 2 || f[0] != "Rss:" {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch file {
		case exe:
			prog += kb
		case dbPath:
			db += kb
		default:
			other += kb
		}
	}
	return prog, db, other
}
