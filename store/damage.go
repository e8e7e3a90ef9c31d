package store

import (
	"bytes"
	"fmt"
	"math/big"
	"runtime/debug"

	"github.com/ampel-bot/ampel/bot"
	bolt "go.etcd.io/bbolt"
)

// A page of the file that bbolt cannot read (bytes overwritten on the disk,
// a bad block) makes bbolt panic, or touches memory outside the file's
// mapping. Every read and write of the store goes through view or update,
// which turn both into a pageFault: an error wrapping bot.ErrDamaged, so
// that one damaged page fails the records on it and nothing else, and never
// the process.

// pageFault is a panic met while reading or writing the file.
type pageFault struct{ v any }

func (p pageFault) Error() string { return fmt.Sprintf("unreadable page (%v)", p.v) }

func (p pageFault) Unwrap() error { return bot.ErrDamaged }

// catch, deferred, turns a panic into *err.
func catch(err *error) {
	if r := recover(); r != nil {
		*err = pageFault{r}
	}
}

func (s *DB) view(fn func(*bolt.Tx) error) error { return guard(s.db.View, fn) }

func (s *DB) update(fn func(*bolt.Tx) error) error { return guard(s.db.Update, fn) }

// guard runs a transaction safely; bbolt rolls it back as a panic passes.
func guard(run func(func(*bolt.Tx) error) error, fn func(*bolt.Tx) error) error {
	return safely(func() error { return run(fn) })
}

// safely runs f with faults on the file's memory turned into panics, and
// panics into a pageFault.
func safely(f func() error) (err error) {
	defer catch(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return f()
}

// openBolt is bolt.Open, with a damaged page met while opening (the
// freelist's) an error instead of a panic.
func openBolt(path string, opts *bolt.Options) (db *bolt.DB, err error) {
	err = safely(func() error {
		db, err = bolt.Open(path, 0o600, opts)
		return err
	})
	return db, err
}

// safeGet reads one value inside a transaction. Reading changes nothing, so
// the transaction can go on after a pageFault.
func safeGet(b *bolt.Bucket, k []byte) (v []byte, err error) {
	defer catch(&err)
	return b.Get(k), nil
}

func safeSeek(c *bolt.Cursor, k []byte) (key, v []byte, err error) {
	defer catch(&err)
	key, v = c.Seek(k)
	return key, v, nil
}

func safeNext(c *bolt.Cursor) (key, v []byte, err error) {
	defer catch(&err)
	key, v = c.Next()
	return key, v, nil
}

// scan calls fn for the keys of b from the first at or after from, in
// order, until fn returns false. A page that cannot be read is skipped:
// the scan goes on at the first key after it that can be reached. gaps
// holds, for each page skipped, the last key read before it.
func scan(b *bolt.Bucket, from []byte, fn func(k, v []byte) bool) (gaps [][]byte) {
	c := b.Cursor()
	k, v, err := safeSeek(c, from)
	last := from
	for {
		if err != nil {
			gaps = append(gaps, bytes.Clone(last))
			if k, v, err = seekPast(c, last); err != nil || (k != nil && bytes.Compare(k, last) <= 0) {
				return gaps // nothing after it can be read
			}
		}
		if k == nil || !fn(k, v) {
			return gaps
		}
		last = k
		k, v, err = safeNext(c)
	}
}

// seekWidth is how many bytes of a key seekPast tells apart; every key
// Ampel writes is shorter.
const seekWidth = 128

// seekPast finds the first key after an unreadable page, given a key
// before it (or a key that leads into it). A seek lands in the damaged
// page for every key from after up to the first key of the next page, and
// in a readable page for every key beyond: the boundary is found by
// bisection over keys seekWidth bytes long, about a thousand seeks.
func seekPast(c *bolt.Cursor, after []byte) (key, v []byte, err error) {
	w := max(seekWidth, len(after)+1)
	lo := new(big.Int).SetBytes(pad(after, w))
	hi := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(8*w)), big.NewInt(1))
	if _, _, err := safeSeek(c, hi.FillBytes(make([]byte, w))); err != nil {
		return nil, nil, err // the damaged page is the last
	}
	one := big.NewInt(1)
	for new(big.Int).Sub(hi, lo).Cmp(one) > 0 {
		mid := new(big.Int).Add(lo, hi)
		mid.Rsh(mid, 1)
		if _, _, err := safeSeek(c, mid.FillBytes(make([]byte, w))); err != nil {
			lo = mid
		} else {
			hi = mid
		}
	}
	// hi is the next page's first key padded with zeros, which seeks past
	// that key itself: take the zeros off again, as far as the seek stays
	// out of the damaged page.
	first := hi.FillBytes(make([]byte, w))
	end := len(bytes.TrimRight(first, "\x00"))
	for n := end; n <= w; n++ {
		if key, v, err = safeSeek(c, first[:n]); err == nil {
			return key, v, nil
		}
	}
	return nil, nil, err
}

func pad(k []byte, w int) []byte {
	p := make([]byte, w)
	copy(p, k)
	return p
}
