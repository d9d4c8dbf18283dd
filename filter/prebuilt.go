package filter

import (
	"strconv"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/phonegate/phonegate/insight"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
)

// A CheckResponse is built from pieces most of which are the same for many
// requests: the headers and metadata values of a country, a line type, a
// policy's decision. They are built once and shared (protobuf messages are
// only read when a response is encoded), so a check allocates little more
// than the response's own envelope. Everything here is read-only once built.

// okStatus is the gRPC status of every allowed check.
var okStatus = &rpcstatus.Status{Code: int32(codes.OK)}

// header is a HeaderValueOption and its HeaderValue in one allocation.
type header struct {
	opt corev3.HeaderValueOption
	val corev3.HeaderValue
}

func newHeader(key, value string) *corev3.HeaderValueOption {
	h := &header{val: corev3.HeaderValue{Key: key, Value: value}}
	h.opt = corev3.HeaderValueOption{Header: &h.val, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}
	return &h.opt
}

// maxInterned bounds each intern table: values come from the embedded data
// and the policy (countries, line types, carrier names, rule names), a few
// thousand at most; past the bound a value is built per use, never refused.
const maxInterned = 4096

// interned maps a value to what is built from it, once.
type interned[T any] struct {
	mu    sync.RWMutex
	m     map[string]T
	build func(string) T
}

func newInterned[T any](build func(string) T) *interned[T] {
	return &interned[T]{m: map[string]T{}, build: build}
}

func (t *interned[T]) get(v string) T {
	t.mu.RLock()
	x, ok := t.m[v]
	t.mu.RUnlock()
	if ok {
		return x
	}
	x = t.build(v)
	t.mu.Lock()
	if len(t.m) < maxInterned {
		t.m[v] = x
	}
	t.mu.Unlock()
	return x
}

// Header tables, by value.
var (
	countryHeaders    = newInterned(func(v string) *corev3.HeaderValueOption { return newHeader(HeaderCountry, v) })
	lineTypeHeaders   = newInterned(func(v string) *corev3.HeaderValueOption { return newHeader(HeaderLineType, v) })
	confidenceHeaders = newInterned(func(v string) *corev3.HeaderValueOption { return newHeader(HeaderConfidence, v) })
	carrierHeaders    = newInterned(func(v string) *corev3.HeaderValueOption { return newHeader(HeaderCarrier, v) })
	disposableHeaders = [2]*corev3.HeaderValueOption{newHeader(HeaderDisposable, "false"), newHeader(HeaderDisposable, "true")}
	riskScoreHeaders  = func() (h [101]*corev3.HeaderValueOption) {
		for i := range h {
			h[i] = newHeader(HeaderRiskScore, strconv.Itoa(i))
		}
		return h
	}()
)

func riskScoreHeader(n int) *corev3.HeaderValueOption {
	return riskScoreHeaders[min(max(n, 0), 100)]
}

func disposableHeader(b bool) *corev3.HeaderValueOption {
	if b {
		return disposableHeaders[1]
	}
	return disposableHeaders[0]
}

// annexBytes bounds the heap a numberAnnex holds (the struct, its metadata
// bytes, the e164 header and the hash): it adds to each cached insight's
// insight.CacheEntryBytes once the number has decided a check.
const annexBytes = 512

// numberAnnex is what the filter derives from a number alone, kept in the
// cached insight's annex: its keyed hash and the pieces of a response that
// only it has. server tells whose hash key made it.
type numberAnnex struct {
	server     *Server
	hash       string
	metadata   []byte // encoded Struct entries: appendNumberMetadata
	e164Header *corev3.HeaderValueOption
}

// annexOf returns the number's annex, building it on first use.
func (s *Server) annexOf(in *insight.Insight) *numberAnnex {
	a := in.Annex()
	if x, ok := a.Load().(*numberAnnex); ok && x.server == s {
		return x
	}
	hash := numberHash(s.opts.HashKey, in.E164, in.Input)
	x := &numberAnnex{server: s, hash: hash, metadata: appendNumberMetadata(nil, in, hash)}
	if in.E164 != "" {
		x.e164Header = newHeader(HeaderE164, in.E164)
	}
	a.Store(x)
	return x
}
