package filter

import (
	"bytes"
	"compress/gzip"
	"errors"

	"github.com/phonegate/phonegate/policy"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestExtract(t *testing.T) {
	multipartBody := "--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"phone\"\r\n\r\n" +
		"+447400123456\r\n" +
		"--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"avatar\"; filename=\"phone.txt\"\r\n" +
		"Content-Type: text/plain\r\n\r\n" +
		"+15555550100\r\n" +
		"--XyZ--\r\n"
	tests := []struct {
		name        string
		contentType string
		body        string
		fields      []string
		want        []found
		wantErr     error // nil: no error; errAny: some error
		mismatch    policy.Mismatch
	}{
		{"auto finds nested phone-like keys", "application/json",
			`{"user":{"name":"Ann","mobile_number":"+447400123456"},"homePhone":"+442071838750","phone_verified":true}`,
			[]string{"auto"}, []found{{"user.mobile_number", "+447400123456"}, {"homePhone", "+442071838750"}}, nil, ""},
		{"named path reads only that path", "application/json",
			`{"phone":"+1","user":{"phone":"+447400123456"}}`,
			[]string{"user.phone"}, []found{{"user.phone", "+447400123456"}}, nil, ""},
		{"[*] paths read every element", "application/json; charset=UTF-8",
			`{"contacts":[{"phone":"+447400123456"},{"phone":"+33612345678"},{"email":"x"}]}`,
			[]string{"contacts[*].phone"}, []found{{"contacts[*].phone", "+447400123456"}, {"contacts[*].phone", "+33612345678"}}, nil, ""},
		{"auto reads arrays under a phone key", "application/json",
			`{"phones":["+447400123456","+33612345678"]}`,
			[]string{"auto"}, []found{{"phones[*]", "+447400123456"}, {"phones[*]", "+33612345678"}}, nil, ""},
		{"duplicate keys all count", "application/json",
			`{"phone":"+447400123456","phone":"12"}`,
			[]string{"phone"}, []found{{"phone", "+447400123456"}, {"phone", "12"}}, nil, ""},
		{"JSON numbers count as numbers", "application/json",
			`{"msisdn":447400123456}`,
			[]string{"auto"}, []found{{"msisdn", "447400123456"}}, nil, ""},
		{"null and booleans are not numbers", "application/json",
			`{"phone":null,"mobile":false}`,
			[]string{"auto"}, nil, nil, ""},
		{"vendor JSON type", "application/vnd.api+json",
			`{"tel":"+447400123456"}`,
			[]string{"auto"}, []found{{"tel", "+447400123456"}}, nil, ""},
		{"form with repeated keys", "application/x-www-form-urlencoded",
			"phone=%2B447400123456&name=Ann&phone=12",
			[]string{"auto"}, []found{{"phone", "+447400123456"}, {"phone", "12"}}, nil, ""},
		{"multipart text parts, file parts skipped", `multipart/form-data; boundary=XyZ`,
			multipartBody, []string{"auto"}, []found{{"phone", "+447400123456"}}, nil, ""},
		{"unknown content type sniffed as JSON", "text/plain",
			`  {"phone":"+447400123456"}`,
			[]string{"auto"}, []found{{"phone", "+447400123456"}}, nil, ""},
		{"missing content type read as a form", "",
			"phone=%2B447400123456",
			[]string{"auto"}, []found{{"phone", "+447400123456"}}, nil, ""},
		{"empty body", "application/json", "  ", []string{"auto"}, nil, nil, ""},
		{"truncated JSON", "application/json", `{"phone":"+4474`, []string{"auto"}, nil, errAny, ""},
		{"JSON too deep", "application/json", strings.Repeat("[", maxJSONDepth+1), []string{"auto"}, nil, errTooDeep, ""},
		{"too many numbers", "application/json",
			`{"phone":[` + strings.TrimSuffix(strings.Repeat(`"+447400123456",`, maxNumbersPerBody+1), ",") + `]}`,
			[]string{"auto"}, nil, errTooManyNumbers, ""},
		{"multipart without boundary", "multipart/form-data", "x", []string{"auto"}, nil, errAny, ""},
		{"GraphQL: the number in variables", "application/json",
			`{"query":"mutation SignUp($input: SignUpInput!) { signUp(input: $input) { id } }","variables":{"input":{"email":"a@b.c","phoneNumber":"+447400123456"}}}`,
			[]string{"auto"}, []found{{"variables.input.phoneNumber", "+447400123456"}}, nil, ""},
		{"GraphQL: a named variables path", "application/graphql-response+json",
			`{"variables":{"phone":"+447400123456"}}`,
			[]string{"variables.phone"}, []found{{"variables.phone", "+447400123456"}}, nil, ""},
		{"raw GraphQL document: numbers in the text", "application/graphql",
			`mutation { signUp(email: "a@b.c", contact: "call me on 07400 123456") { id } }`,
			[]string{"auto"}, []found{{"(text)", "07400 123456"}}, nil, ""},
		{"free text under auto, when no key matches", "application/json",
			`{"message":"Hi, reach me at +44 7400 123456 or +1 650 253 0000 after 5pm"}`,
			[]string{"auto"}, []found{{"(text)", "+44 7400 123456"}, {"(text)", "+1 650 253 0000"}}, nil, ""},
		{"a phone key wins over free text", "application/json",
			`{"phone":"+33612345678","message":"or +44 7400 123456"}`,
			[]string{"auto"}, []found{{"phone", "+33612345678"}}, nil, ""},
		{"free text is not read for named fields", "application/json",
			`{"message":"+44 7400 123456"}`,
			[]string{"phone"}, nil, nil, ""},
		{"plain text body", "text/plain; charset=utf-8",
			"Please call 07400 123456.",
			[]string{"auto"}, []found{{"(text)", "07400 123456"}}, nil, ""},
		{"JSON declared as a form is read as JSON", "application/x-www-form-urlencoded",
			`{"phone":"+447400123456"}`,
			[]string{"auto"}, []found{{"phone", "+447400123456"}}, nil, policy.MismatchParse},
		{"JSON declared as a form is refused when the route says so", "application/x-www-form-urlencoded",
			`{"phone":"+447400123456"}`,
			[]string{"auto"}, nil, errContentTypeMismatch, policy.MismatchReject},
		{"a form declared as JSON is not JSON", "application/json",
			"phone=%2B447400123456",
			[]string{"auto"}, nil, errAny, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := extract(tt.contentType, []byte(tt.body), tt.fields, "GB", tt.mismatch)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestPhoneLikeKey(t *testing.T) {
	for key, want := range map[string]bool{
		"phone": true, "Phone": true, "phone_number": true, "phoneNumber": true, "mobile": true,
		"MSISDN": true, "tel": true, "work-phone": true, "cell_phone": true, "contact.telephone": true,
		"phone_verified": false, "phone_country": false, "telegram": false, "hotel": false,
		"email": false, "mobile_os": false, "": false, "phones": true, "mobile_numbers": true, "status": false,
	} {
		if got := phoneLikeKey(key); got != want {
			t.Errorf("phoneLikeKey(%q) = %v, want %v", key, got, want)
		}
	}
}

// FuzzExtract feeds arbitrary bodies under every content type phonegate reads:
// no panic, bounded output, and every value comes from the body.
func FuzzExtract(f *testing.F) {
	f.Add("application/json", []byte(`{"phone":"+447400123456","user":{"phone":"1"}}`)) // nested
	f.Add("application/json", []byte(`{"a":[[[{"phone":1e400}]]]}`))                    // number out of float range
	f.Add("application/json", []byte(`{"phone":"a"} {"phone":"b"}`))                    // two documents
	f.Add("application/x-www-form-urlencoded", []byte("phone=%zz&phone=1"))             // bad escape
	f.Add("multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"phone\"\r\n\r\n1\r\n--b--"))
	f.Add("text/plain", []byte("[{\"mobile\":\"\\u0030\"}]"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		for _, fields := range [][]string{{"auto"}, {"phone", "user.phone", "contacts[*].phone"}} {
			got, err := extract(contentType, body, fields, "US", policy.MismatchParse)
			if err != nil {
				if got != nil {
					t.Fatalf("values %v returned with error %v", got, err)
				}
				continue
			}
			if len(got) > maxNumbersPerBody {
				t.Fatalf("%d values, limit %d", len(got), maxNumbersPerBody)
			}
			for _, v := range got {
				if v.field == "" {
					t.Fatalf("value %q with no field", v.value)
				}
				if len(v.value) > len(body) && utf8.ValidString(v.value) {
					// JSON escapes can only shrink a value, except \u escapes of
					// invalid UTF-8, which the decoder widens to U+FFFD.
					t.Fatalf("value %q longer than the body", v.value)
				}
			}
		}
	})
}

// FuzzDecodeBody: any bytes under any content-encoding inflate to at most the
// limit or fail with an error; nothing panics, and identity passes through.
func FuzzDecodeBody(f *testing.F) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"phone":"+447400123456"}`))
	zw.Close()
	f.Add("gzip", gz.Bytes())
	f.Add("deflate", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}) // empty zlib stream
	f.Add("identity", []byte("phone=1"))
	f.Add("GZIP ", []byte{0x1f, 0x8b}) // a truncated header
	f.Fuzz(func(t *testing.T, encoding string, body []byte) {
		const limit = 1024
		req := &policy.Request{Headers: map[string]string{"content-encoding": encoding}, Body: body}
		out, err := decodeBody(req, limit)
		if err != nil {
			if out != nil {
				t.Fatal("output with an error")
			}
			return
		}
		if len(out) > limit {
			t.Fatalf("%d bytes out, limit %d", len(out), limit)
		}
		if enc := strings.ToLower(strings.TrimSpace(encoding)); (enc == "" || enc == "identity") && !bytes.Equal(out, body) {
			t.Fatal("identity changed the body")
		}
	})
}
