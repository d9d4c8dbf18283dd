package filter

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	if err := (&Options{}).Validate(); err != nil {
		t.Errorf("zero options: %v", err)
	}
	if err := (&Options{HTTPAuthzPrefix: "/ext-authz", MaxBodyBytes: 65536, XFFTrustedHops: 1, DrainTimeout: time.Second}).Validate(); err != nil {
		t.Errorf("good options: %v", err)
	}
	for _, tt := range []struct {
		o    Options
		want string
	}{
		{Options{XFFTrustedHops: -1}, "xff-trusted-hops -1"},
		{Options{DrainTimeout: -time.Second}, "drain-timeout -1s"},
		{Options{MaxBodyBytes: -5}, "max-body-bytes -5"},
		{Options{MaxBodyBytes: 1 << 30}, "max-body-bytes 1073741824"},
		{Options{CacheSize: 1 << 30}, "cache-size"},
		{Options{HTTPAuthzPrefix: "authz"}, `http-authz-prefix "authz"`},
		{Options{HTTPAuthzPrefix: "/"}, `http-authz-prefix "/"`},
		{Options{HTTPAuthzPrefix: "/authz/"}, "without a trailing /"},
		{Options{HTTPAuthzPrefix: "/a//b"}, "plain path"},
		{Options{HTTPAuthzPrefix: "/metrics"}, "take over /metrics"},
		{Options{HTTPAuthzPrefix: "/v1/authz"}, "take over /v1"},
	} {
		err := tt.o.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want an error with %q", tt.o, err, tt.want)
		}
	}
}
