package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"io"
	"sync"
)

// chunkSize is the piece in which bodies are held until their signature
// is checked. Pieces are reused, so a refused body leaves no garbage and
// memory stays near the bytes in flight.
const chunkSize = 64 << 10

var chunks = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// heldBody is a request body read in pooled chunks, with its HMAC.
type heldBody struct {
	parts []*[chunkSize]byte
	n     int
	mac   []byte
}

// readBody reads exactly n bytes from r, computing the HMAC with secret
// as it goes. Call release when done with the body.
func readBody(r io.Reader, n int, secret []byte) (*heldBody, error) {
	b := &heldBody{n: n, parts: make([]*[chunkSize]byte, 0, (n+chunkSize-1)/chunkSize)}
	mac := hmac.New(sha256.New, secret)
	for left := n; left > 0; {
		c := chunks.Get().(*[chunkSize]byte)
		b.parts = append(b.parts, c)
		part := c[:min(left, chunkSize)]
		if _, err := io.ReadFull(r, part); err != nil {
			b.release()
			return nil, err
		}
		mac.Write(part)
		left -= len(part)
	}
	b.mac = mac.Sum(nil)
	return b, nil
}

// signedBy reports whether want is the body's HMAC, in constant time.
func (b *heldBody) signedBy(want [sha256.Size]byte) bool { return hmac.Equal(want[:], b.mac) }

// bytes returns the body in one piece, for a body whose signature holds.
func (b *heldBody) bytes() []byte {
	out := make([]byte, 0, b.n)
	for i, c := range b.parts {
		out = append(out, c[:min(b.n-i*chunkSize, chunkSize)]...)
	}
	return out
}

// release returns the chunks to the pool.
func (b *heldBody) release() {
	for _, c := range b.parts {
		chunks.Put(c)
	}
	b.parts = nil
}
