package filter

import (
	"bytes"
	"compress/zlib"
	"io"
)

func zlibReader(b []byte) (io.Reader, error) { return zlib.NewReader(bytes.NewReader(b)) }
