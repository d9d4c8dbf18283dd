package policy

import "strings"

// NormalizePath returns the path that routes match, so that a path spelled
// differently from a route's cannot slip past it:
//
//   - the query and fragment are dropped;
//   - percent-encoded unreserved characters (letters, digits, - . _ ~) are
//     decoded, other percent-encodings upper-cased, and a "%" that starts no
//     escape written "%25" (so nothing is ever decoded twice);
//   - a backslash is a slash, as Envoy's normalize_path has it;
//   - path parameters (";jsessionid=...", which Java servers strip) are
//     dropped from every segment;
//   - duplicate slashes are merged, and the dot segments "." and ".." removed
//     as RFC 3986 section 5.2.4 says.
//
// An encoded slash or backslash (%2F, %5C) is left encoded: what it means is
// up to the upstream, and Envoy's path_with_escaped_slashes_action:
// REJECT_REQUEST refuses such paths before phonegate sees them. The result
// always starts with "/" and never holds "//", "/./" or "/../".
func NormalizePath(p string) string {
	for i := 0; i < len(p); i++ {
		if p[i] == '?' || p[i] == '#' {
			p = p[:i]
			break
		}
	}
	if isNormal(p) {
		return p // the common case, without allocating
	}
	return normalize(p)
}

// normalize is NormalizePath for a path with no query or fragment that
// isNormal turned down.
func normalize(p string) string {
	// Envoy's normalize_path turns backslashes into slashes; so do we.
	p = strings.ReplaceAll(decodeUnreserved(p), "\\", "/")
	var b strings.Builder
	b.Grow(len(p) + 1)
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for _, seg := range segs {
		if i := strings.IndexByte(seg, ';'); i >= 0 {
			seg = seg[:i]
		}
		switch seg {
		case "", ".":
			continue
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			continue
		}
		out = append(out, seg)
	}
	for _, seg := range out {
		b.WriteByte('/')
		b.WriteString(seg)
	}
	// A trailing slash, or a last segment that was "." or "..", leaves the
	// path naming a directory, as RFC 3986 does.
	last := segs[len(segs)-1]
	if i := strings.IndexByte(last, ';'); i >= 0 {
		last = last[:i]
	}
	if (last == "" || last == "." || last == "..") && len(out) > 0 {
		b.WriteByte('/')
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// isNormal reports whether p needs no work: it starts with "/" and holds no
// "%", ";", "//" and no "." or ".." segment.
func isNormal(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	// One pass, on every check: seg is where the current segment began.
	seg := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) {
			switch p[i] {
			case '%', ';', '\\':
				return false
			case '/':
			default:
				continue
			}
		}
		switch p[seg:i] {
		case "", ".", "..":
			// "//" (an empty segment before the end), or a dot segment. A
			// trailing slash leaves an empty last segment, which is normal.
			if i < len(p) || p[seg:i] != "" {
				return false
			}
		}
		seg = i + 1
	}
	return true
}

// decodeUnreserved decodes the percent-encodings of unreserved characters,
// upper-cases the hex digits of the others, and writes a % that starts no
// escape as %25.
func decodeUnreserved(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			// A stray %: written as the escape it stands for, so that what
			// follows it cannot become an escape on a second pass.
			b.WriteString("%25")
			continue
		}
		v := unhex(p[i+1])<<4 | unhex(p[i+2])
		if isUnreserved(v) {
			b.WriteByte(v)
		} else {
			b.WriteByte('%')
			b.WriteByte(upperHex(p[i+1]))
			b.WriteByte(upperHex(p[i+2]))
		}
		i += 2
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}
