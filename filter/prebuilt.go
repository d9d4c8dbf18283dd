package filter

import (
	"slices"
	"strconv"

	"github.com/phonegate/phonegate/insight"
)

// A CheckResponse is written from pieces most of which are the same for
// many requests: the headers and metadata entries of a policy's decision,
// and those of a number. They are encoded once (a decision's with the
// policy set, a number's with its cached insight) and copied into each
// response (responsewire.go). Everything here is read-only once built.

// riskScoreHeaders are x-phone-risk-score: 0 to 100, encoded: the one
// header about a number that is this request's (its IP and velocity count).
var riskScoreHeaders = func() (h [101][]byte) {
	for i := range h {
		h[i] = encodeHeader(fOKHeaders, HeaderRiskScore, strconv.Itoa(i))
	}
	return h
}()

func riskScoreHeader(n int) []byte {
	return riskScoreHeaders[min(max(n, 0), 100)]
}

// annexBytes bounds the heap a numberAnnex holds (the struct, its header
// and metadata bytes, and the hash): it adds to each cached insight's
// insight.CacheEntryBytes once the number has decided a check.
const annexBytes = 512

// numberAnnex is what the filter derives from a number alone, kept in the
// cached insight's annex: its keyed hash and the pieces of a response that
// only it has. server tells whose hash key made it.
type numberAnnex struct {
	server   *Server
	hash     string
	headers  []byte // encoded OkHttpResponse.headers entries: numberHeaders
	metadata []byte // encoded Struct entries: appendNumberMetadata
}

// annexOf returns the number's annex, building it on first use.
func (s *Server) annexOf(in *insight.Insight) *numberAnnex {
	a := in.Annex()
	if x, ok := a.Load().(*numberAnnex); ok && x.server == s {
		return x
	}
	hash := numberHash(s.opts.HashKey, in.E164, in.Input)
	var headers []byte
	for _, h := range numberHeaders(in) {
		headers = appendHeader(headers, fOKHeaders, h[0], h[1])
	}
	// Clones of exactly their size: they are kept as long as the insight.
	x := &numberAnnex{server: s, hash: hash, headers: slices.Clone(headers), metadata: slices.Clone(appendNumberMetadata(nil, in, hash))}
	a.Store(x)
	return x
}
