package bareproxy

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// closedAfter fails every read once its content is consumed, as a server's
// request body does once the server closed it.
type closedAfter struct{ r io.Reader }

func (c *closedAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, errors.New("http: invalid Read on closed Body")
	}
	return n, err
}

func (c *closedAfter) Close() error { return nil }

func TestDeclaredBodyEndsAtTheDeclaredLength(t *testing.T) {
	for _, c := range []struct {
		body     string
		declared int64
		want     string
	}{
		{`{"pageLimit":100}`, 17, `{"pageLimit":100}`},
		{`{"pageLimit":100}`, 5, `{"pag`},
		{"x", 1, "x"},
	} {
		b := &declaredBody{ReadCloser: &closedAfter{strings.NewReader(c.body)}, left: c.declared}
		got, err := io.ReadAll(b)
		if err != nil || string(got) != c.want {
			t.Errorf("%q declared %d: read %q, %v; want %q, nil", c.body, c.declared, got, err, c.want)
		}
		// The transport's extra read past the declared length.
		if n, err := b.Read(make([]byte, 8)); n != 0 || !errors.Is(err, io.EOF) {
			t.Errorf("%q: read past the declared length: %d, %v; want 0, EOF", c.body, n, err)
		}
	}
}
