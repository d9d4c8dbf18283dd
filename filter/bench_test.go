package filter

import (
	"context"
	"strings"
	"testing"

	"github.com/phonegate/phonegate/policy"
	"google.golang.org/grpc/codes"
)

// signupBody is a realistic 1 KiB signup JSON body with one phone number.
func signupBody() string {
	var b strings.Builder
	b.WriteString(`{"email":"ann.example@example.com","password":"correct horse battery staple",`)
	b.WriteString(`"profile":{"first_name":"Ann","last_name":"Example","locale":"en-GB","timezone":"Europe/London",`)
	b.WriteString(`"phone":"+44 7400 123456","marketing_opt_in":false},"bio":"`)
	for b.Len() < 1000 {
		b.WriteString("lorem ipsum dolor sit amet ")
	}
	b.WriteString(`"}`)
	return b.String()
}

// BenchmarkCheck is one Check in process for a 1 KiB JSON body whose number
// is in the cache: request view, route, extraction, insight, policy, response.
func BenchmarkCheck(b *testing.B) {
	set, err := policy.Default()
	if err != nil {
		b.Fatal(err)
	}
	srv := New(Options{})
	srv.SetPolicy(set)
	srv.MarkWarm()
	req := envoyCheck("POST", "/signup", "application/json", signupBody(), nil)
	ctx := context.Background()
	resp, err := srv.Check(ctx, req)
	if err != nil || codes.Code(resp.GetStatus().GetCode()) != codes.OK {
		b.Fatalf("check: %v %v", resp, err)
	}
	b.SetBytes(int64(len(req.GetAttributes().GetRequest().GetHttp().GetRawBody())))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := srv.Check(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
