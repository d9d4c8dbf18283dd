package filter

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/phonegate/phonegate/policy"
)

// extractFor runs what a check runs on a body: read it, then find the values
// that fields name. Values are written "field=value", with "@XX" when a
// country beside the value gave its region.
func extractFor(t testing.TB, contentType, body string, fields []string, region string, mismatch policy.Mismatch) ([]string, error) {
	t.Helper()
	var fs []policy.Field
	for _, f := range fields {
		pf, err := policy.ParseField(f)
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, pf)
	}
	b, err := readBody(contentType, []byte(body), mismatch)
	if err != nil {
		return nil, err
	}
	got, err := extract(b, fs, region)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range got {
		s := f.field + "=" + f.value
		if f.region != "" {
			s += "@" + f.region
		}
		out = append(out, s)
	}
	return out, nil
}

var multipartBody = "--XyZ\r\n" +
	"Content-Disposition: form-data; name=\"phone\"\r\n\r\n" +
	"+447400123456\r\n" +
	"--XyZ\r\n" +
	"Content-Disposition: form-data; name=\"avatar\"; filename=\"phone.txt\"\r\n" +
	"Content-Type: text/plain\r\n\r\n" +
	"+15555550100\r\n" +
	"--XyZ\r\n" +
	"Content-Disposition: form-data; name=\"user[phone]\"\r\n\r\n" +
	"+33612345678\r\n" +
	"--XyZ--\r\n"
var auto = []string{"auto"}

// extractCases are bodies and the values a route's fields read from them;
// TestNoNumberInLogs sends every one through the server too.
var extractCases = []struct {
	name        string
	contentType string
	body        string
	fields      []string
	want        []string
	wantErr     error // nil: no error; errAny: some error
	mismatch    policy.Mismatch
}{
	{"auto finds nested phone-like keys", "application/json",
		`{"user":{"name":"Ann","mobile_number":"+447400123456"},"homePhone":"+442071838750","phone_verified":true}`,
		auto, []string{"user.mobile_number=+447400123456", "homePhone=+442071838750"}, nil, ""},
	{"named path reads only that path", "application/json",
		`{"phone":"+1","user":{"phone":"+447400123456"}}`,
		[]string{"user.phone"}, []string{"user.phone=+447400123456"}, nil, ""},
	{"[*] paths read every element", "application/json; charset=UTF-8",
		`{"contacts":[{"phone":"+447400123456"},{"phone":"+33612345678"},{"email":"x"}]}`,
		[]string{"contacts[*].phone"}, []string{"contacts[*].phone=+447400123456", "contacts[*].phone=+33612345678"}, nil, ""},
	{"arrays are passed through: contacts.phone is contacts[*].phone", "application/json",
		`{"contacts":[{"phone":"+447400123456"}]}`,
		[]string{"contacts.phone"}, []string{"contacts.phone=+447400123456"}, nil, ""},
	{"auto reads arrays under a phone key", "application/json",
		`{"phones":["+447400123456","+33612345678"]}`,
		auto, []string{"phones=+447400123456", "phones=+33612345678"}, nil, ""},
	{"duplicate keys all count", "application/json",
		`{"phone":"+447400123456","phone":"12"}`,
		[]string{"phone"}, []string{"phone=+447400123456", "phone=12"}, nil, ""},
	{"JSON numbers count as numbers", "application/json",
		`{"msisdn":447400123456}`,
		auto, []string{"msisdn=447400123456"}, nil, ""},
	{"null and booleans are not numbers", "application/json",
		`{"phone":null,"mobile":false}`,
		auto, nil, nil, ""},
	{"vendor JSON type", "application/vnd.api+json",
		`{"tel":"+447400123456"}`,
		auto, []string{"tel=+447400123456"}, nil, ""},

	// Empty optional fields are no number.
	{"empty string", "application/json", `{"phone":""}`, auto, nil, nil, ""},
	{"blank string", "application/json", `{"phone":"   "}`, auto, nil, nil, ""},
	{"empty string, named", "application/json", `{"phone":"\t"}`, []string{"phone"}, nil, nil, ""},
	{"empty form value", "application/x-www-form-urlencoded", "email=a%40b.c&phone=", auto, nil, nil, ""},

	// auto reads words, not substrings.
	{"headphones", "application/json", `{"headphones":"yes"}`, auto, nil, nil, ""},
	{"microphone", "application/json", `{"microphone":"on"}`, auto, nil, nil, ""},
	{"iphone inside an object", "application/json", `{"device":{"iphone":"15 Pro"}}`, auto, nil, nil, ""},
	{"facts about a number are not the number", "application/json",
		`{"phone_verified":"2024","phone_country_code":"+44","sms_opt_in":"1","mobile_os":"17.1"}`, auto, nil, nil, ""},
	{"auto needs a digit", "application/json", `{"mobile":"yes"}`, auto, nil, nil, ""},
	{"a named field is judged without a digit", "application/json", `{"phone":"none"}`, []string{"phone"}, []string{"phone=none"}, nil, ""},

	// Form names in the bracket convention are paths.
	{"form: user[phone]", "application/x-www-form-urlencoded",
		"user%5Bname%5D=Ann&user%5Bphone%5D=%2B447400123456", auto, []string{"user.phone=+447400123456"}, nil, ""},
	{"form: user[phone] named as user.phone", "application/x-www-form-urlencoded",
		"user[phone]=%2B447400123456", []string{"user.phone"}, []string{"user.phone=+447400123456"}, nil, ""},
	{"form: phone[]", "application/x-www-form-urlencoded",
		"phone[]=%2B447400123456&phone[]=12", []string{"phone"}, []string{"phone=+447400123456", "phone=12"}, nil, ""},
	{"form: contacts[0][phone]", "application/x-www-form-urlencoded",
		"contacts[0][phone]=%2B447400123456&contacts[1][phone]=12", []string{"contacts[*].phone"},
		[]string{"contacts[*].phone=+447400123456", "contacts[*].phone=12"}, nil, ""},
	{"form: Spring's contacts[0].phone", "application/x-www-form-urlencoded",
		"contacts[0].phone=12", []string{"contacts[*].phone"}, []string{"contacts[*].phone=12"}, nil, ""},
	{"form with repeated keys", "application/x-www-form-urlencoded",
		"phone=%2B447400123456&name=Ann&phone=12",
		auto, []string{"phone=+447400123456", "phone=12"}, nil, ""},
	{"multipart text parts, file parts skipped, brackets read", `multipart/form-data; boundary=XyZ`,
		multipartBody, auto, []string{"phone=+447400123456", "user.phone=+33612345678"}, nil, ""},

	// Objects under a phone key.
	{"phone object with a country", "application/json",
		`{"phone":{"number":"07400 123456","country":"GB","type":"mobile","verified":true}}`,
		auto, []string{"phone=07400 123456@GB"}, nil, ""},
	{"phone object with a calling code", "application/json",
		`{"phone":{"countryCode":"+33","nationalNumber":"612345678"}}`,
		[]string{"phone"}, []string{"phone=612345678@FR"}, nil, ""},
	{"phone object with an area code", "application/json",
		`{"phone":{"area_code":"650","number":"253-0000","country":"US"}}`,
		auto, []string{"phone=650 253-0000@US"}, nil, ""},
	{"phone object: a country that is no region is ignored", "application/json",
		`{"phone":{"number":"07400 123456","country":"UK"}}`,
		auto, []string{"phone=07400 123456"}, nil, ""},
	{"array of phone objects", "application/json",
		`{"phoneNumbers":[{"value":"+447400123456","type":"work"},{"value":"0612345678","country":"FR"}]}`,
		auto, []string{"phoneNumbers=+447400123456", "phoneNumbers=0612345678@FR"}, nil, ""},

	// Case twins all count for named paths.
	{"case twin of the last key", "application/json",
		`{"applicant":{"phone":"+447400123456","PHONE":"12"}}`,
		[]string{"applicant.phone"}, []string{"applicant.phone=+447400123456", "applicant.phone=12"}, nil, ""},
	{"case twin of the parent", "application/json",
		`{"applicant":{"phone":"+447400123456"},"Applicant":{"phone":"12"}}`,
		[]string{"applicant.phone"}, []string{"applicant.phone=+447400123456", "applicant.phone=12"}, nil, ""},
	{"Unicode case folding (Kelvin sign) as Go's encoding/json does", "application/json",
		`{"\u212aey":"12"}`, []string{"key"}, []string{"key=12"}, nil, ""},

	// Name/value attributes.
	{"Cognito UserAttributes", "application/x-amz-json-1.1",
		`{"ClientId":"abc","Username":"ann","Password":"x","UserAttributes":[{"Name":"email","Value":"a@b.c"},{"Name":"phone_number","Value":"+447400123456"}]}`,
		auto, []string{"UserAttributes.phone_number=+447400123456"}, nil, ""},
	{"Cognito UserAttributes, named", "application/x-amz-json-1.1",
		`{"UserAttributes":[{"Name":"phone_number","Value":"+447400123456"}]}`,
		[]string{"UserAttributes[*].phone_number"}, []string{"UserAttributes[*].phone_number=+447400123456"}, nil, ""},

	// GraphQL.
	{"GraphQL: the number in variables", "application/json",
		`{"query":"mutation SignUp($input: SignUpInput!) { signUp(input: $input) { id } }","variables":{"input":{"email":"a@b.c","phoneNumber":"+447400123456"}}}`,
		auto, []string{"variables.input.phoneNumber=+447400123456"}, nil, ""},
	{"GraphQL: a literal argument beside a good variable", "application/json",
		`{"query":"mutation ($phone: String!) { signUp(phone: \"12\", backup: $phone) { id } }","variables":{"phone":"+447400123456"}}`,
		[]string{"variables.phone"}, []string{"variables.phone=+447400123456", "variables.phone=12"}, nil, ""},
	{"GraphQL: a variable under another name", "application/json",
		`{"query":"mutation ($p: String!) { signUp(phone: $p) { id } }","variables":{"p":"12","phone":"+447400123456"}}`,
		[]string{"variables.phone"}, []string{"variables.phone=+447400123456", "variables.phone=12"}, nil, ""},
	{"GraphQL: an input object literal", "application/json",
		`{"query":"mutation { signUp(input: {email: \"a@b.c\", phoneNumber: \"12\"}) { id } }"}`,
		auto, []string{"variables.input.phoneNumber=12"}, nil, ""},
	{"GraphQL: a variable's default", "application/json",
		`{"query":"mutation ($p: String = \"12\") { signUp(phone: $p) { id } }"}`,
		[]string{"variables.phone"}, []string{"variables.phone=12"}, nil, ""},
	{"GraphQL: a batch", "application/json",
		`[{"query":"mutation { a(phone: \"+447400123456\") { id } }"},{"query":"mutation { b(phone: \"12\") { id } }"}]`,
		auto, []string{"variables.phone=+447400123456", "variables.phone=12"}, nil, ""},
	{"GraphQL document", "application/graphql",
		`mutation { signUp(email: "a@b.c", phone: "+447400123456") { id } }`,
		auto, []string{"variables.phone=+447400123456"}, nil, ""},
	{"GraphQL document that does not parse", "application/graphql",
		`mutation { signUp(phone: "+447400123456" { id } }`, auto, nil, errAny, ""},
	{"a JSON query that is not GraphQL is text", "application/json",
		`{"query":"flats near 07400 123456?","phone":"+33612345678"}`,
		auto, []string{"phone=+33612345678"}, nil, ""},

	// Content types.
	{"unknown content type sniffed as JSON", "text/plain",
		`  {"phone":"+447400123456"}`,
		auto, []string{"phone=+447400123456"}, nil, ""},
	{"missing content type read as a form", "",
		"phone=%2B447400123456",
		auto, []string{"phone=+447400123456"}, nil, ""},
	{"a content type with a bad parameter is read by its media type", "text/plain; x",
		"hello there", auto, nil, nil, ""},
	{"empty body", "application/json", "  ", auto, nil, nil, ""},
	{"text that looks like JSON is text", "text/plain", "[URGENT] please call me on +44 7400 123456", auto, []string{"(text)=+44 7400 123456"}, nil, ""},
	{"text that looks like a form is text", "", "a=%zz", auto, nil, nil, ""},
	{"truncated JSON", "application/json", `{"phone":"+4474`, auto, nil, errAny, ""},
	{"JSON too deep", "application/json", strings.Repeat("[", maxDepth+1), auto, nil, errTooDeep, ""},
	{"form too deep", "application/x-www-form-urlencoded", "a" + strings.Repeat("[a]", maxDepth+1) + "=1", auto, nil, errTooDeep, ""},
	{"too many numbers", "application/json",
		`{"phone":[` + strings.TrimSuffix(strings.Repeat(`"+4474001234",`, 1)+func() string {
			var b strings.Builder
			for i := range maxNumbersPerBody + 1 {
				fmt.Fprintf(&b, `"+447400%06d",`, i)
			}
			return b.String()
		}(), ",") + `]}`,
		auto, nil, errTooManyNumbers, ""},
	{"a number twice is judged once", "application/json",
		`{"phone":"+447400123456","mobile":"+447400123456"}`, auto, []string{"phone=+447400123456"}, nil, ""},
	{"multipart without boundary", "multipart/form-data", "x", auto, nil, errAny, ""},
	{"raw GraphQL-like text: numbers in the text", "text/plain",
		`signUp(email: "a@b.c", contact: "call me on 07400 123456")`,
		auto, []string{"(text)=07400 123456"}, nil, ""},
	{"free text under auto, when no key matches", "application/json",
		`{"message":"Hi, reach me at +44 7400 123456 or +1 650 253 0000 after 5pm"}`,
		auto, []string{"(text)=+44 7400 123456", "(text)=+1 650 253 0000"}, nil, ""},
	{"a phone key wins over free text", "application/json",
		`{"phone":"+33612345678","message":"or +44 7400 123456"}`,
		auto, []string{"phone=+33612345678"}, nil, ""},
	{"free text is not read for named fields", "application/json",
		`{"message":"+44 7400 123456"}`,
		[]string{"phone"}, nil, nil, ""},
	{"Twilio Verify: To= is found as free text", "application/x-www-form-urlencoded",
		"To=%2B447400123456&Channel=sms", auto, []string{"(text)=+447400123456"}, nil, ""},
	{"plain text body", "text/plain; charset=utf-8",
		"Please call 07400 123456.",
		auto, []string{"(text)=07400 123456"}, nil, ""},
	{"JSON declared as a form is read as JSON", "application/x-www-form-urlencoded",
		`{"phone":"+447400123456"}`,
		auto, []string{"phone=+447400123456"}, nil, policy.MismatchParse},
	{"JSON declared as a form is refused when the route says so", "application/x-www-form-urlencoded",
		`{"phone":"+447400123456"}`,
		auto, nil, errContentTypeMismatch, policy.MismatchReject},
	{"a form declared as JSON is not JSON", "application/json",
		"phone=%2B447400123456",
		auto, nil, errAny, ""},
	{"a phone number as a key is not logged", "application/json",
		`{"contacts":{"+447400123456":{"phone":"+33612345678"}}}`,
		auto, []string{"contacts.?.phone=+33612345678"}, nil, ""},
}

func TestExtract(t *testing.T) {
	for _, tt := range extractCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := extractFor(t, tt.contentType, tt.body, tt.fields, "GB", tt.mismatch)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestPhoneLikeKey(t *testing.T) {
	for key, want := range map[string]bool{
		"phone": true, "Phone": true, "phone_number": true, "phoneNumber": true, "mobile": true,
		"MSISDN": true, "tel": true, "work-phone": true, "cell_phone": true, "contact.telephone": true,
		"phones": true, "mobile_numbers": true, "PhoneNumberE164": true, "phone2": true, "phone_2": true,
		"whatsapp_number": true, "SMSNumber": true, "homephone": true, "user[phone]": true, "telefono": true,
		"contact_number": true, "contactNumber": true, "phone_confirmation": true,
		"phone_verified": false, "phone_country": false, "phone_country_code": false, "telegram": false,
		"hotel": false, "email": false, "mobile_os": false, "": false, "status": false, "headphones": false,
		"microphone": false, "iphone": false, "smartphone": false, "sms_opt_in": false, "phoneType": false,
		"account_number": false, "number": false, "phone_ext": false, "house_number": false,
	} {
		if got := phoneLikeKey(key); got != want {
			t.Errorf("phoneLikeKey(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestFormName(t *testing.T) {
	for name, want := range map[string][]string{
		"phone":              {"phone"},
		"user[phone]":        {"user", "phone"},
		"phone[]":            {"phone", ""},
		"contacts[0][phone]": {"contacts", "0", "phone"},
		"contacts[0].phone":  {"contacts", "0", "phone"},
		"user.phone":         {"user", "phone"},
		"a[b":                {"a[b"},
		"":                   {""},
	} {
		if got := formName(name, nil); !slices.Equal(got, want) {
			t.Errorf("formName(%q) = %q, want %q", name, got, want)
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
	f.Add("application/graphql", []byte(`mutation ($p: String = "1") { a(phone: $p, x: {phone: ["2"]}) { b } }`))
	f.Add("application/json", []byte(`{"query":"{ a(phone: $v) }","variables":{"v":{"phone":"1"}}}`))
	f.Add("application/x-www-form-urlencoded", []byte("a[b][0][]=1&a[b][0][c]=2&phone[]="))
	f.Add("application/json", []byte(`{"phone":{"number":"1","country":"44","area_code":"2"}}`))
	fieldSets := [][]policy.Field{{{Path: "auto", Auto: true}}, nil}
	for _, s := range []string{"phone", "user.phone", "contacts[*].phone", "variables.phone"} {
		f, _ := policy.ParseField(s)
		fieldSets[1] = append(fieldSets[1], f)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		for _, fields := range fieldSets {
			var got []found
			b, err := readBody(contentType, body, policy.MismatchParse)
			if err == nil {
				got, err = extract(b, fields, "US")
			}
			if err != nil {
				if got != nil {
					t.Fatalf("values %v returned with error %v", got, err)
				}
				if hasDigitRun(err.Error()) && !strings.Contains(err.Error(), "at byte") && !strings.Contains(err.Error(), "line") {
					t.Fatalf("error %q may quote the body", err)
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
				if strings.TrimSpace(v.value) == "" {
					t.Fatalf("blank value %q judged", v.value)
				}
				if len(v.value) > len(body)+16 && utf8.ValidString(v.value) {
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

// TestParseMediaTypeFastPath: the fast path gives what mime.ParseMediaType
// gives, for the types it takes and those it hands on.
func TestParseMediaTypeFastPath(t *testing.T) {
	for _, ct := range []string{"application/json", "application/vnd.api+json", "text/plain", "Application/JSON",
		"application/json; charset=utf-8", "multipart/form-data; boundary=x", "json", "/json", "application/", "a/b/c", "application/json ", ""} {
		mt, params, err := parseMediaType(ct)
		wmt, wparams, werr := mime.ParseMediaType(ct)
		if mt != wmt || (err == nil) != (werr == nil) || len(params) != len(wparams) {
			t.Errorf("%q: %q %v %v, mime gives %q %v %v", ct, mt, params, err, wmt, wparams, werr)
		}
	}
}

// referenceJSONTree is jsonTree as it was written first: every key and string
// through jsontext's Token.String. FuzzJSONTreeAgrees holds the faster
// jsonTree (substrings of the body, a pooled decoder) to it.
func referenceJSONTree(body []byte, t *tree) error {
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	type frame struct {
		idx     int32
		object  bool
		key     string
		haveKey bool
	}
	var stack []frame
	for {
		tok, err := dec.ReadToken()
		if err == io.EOF {
			if len(stack) > 0 {
				return errors.New("unexpected end")
			}
			return nil
		}
		if err != nil {
			return err
		}
		kind := tok.Kind()
		parent, key := int32(0), ""
		if n := len(stack); n > 0 {
			f := &stack[n-1]
			switch {
			case f.object && !f.haveKey:
				if kind == '}' {
					stack = stack[:n-1]
				} else {
					f.key, f.haveKey = tok.String(), true
				}
				continue
			case kind == ']':
				stack = stack[:n-1]
				continue
			}
			parent = f.idx
			if f.object {
				key, f.haveKey = f.key, false
			}
		}
		switch kind {
		case '{', '[':
			if len(stack) >= maxDepth {
				return errTooDeep
			}
			idx := int32(0)
			if len(stack) > 0 || kind == '[' {
				k := kindArray
				if kind == '{' {
					k = kindObject
				}
				if idx, err = t.add(parent, key, k, ""); err != nil {
					return err
				}
			}
			stack = append(stack, frame{idx: idx, object: kind == '{'})
		case '"':
			_, err = t.add(parent, key, kindString, tok.String())
		case '0':
			_, err = t.add(parent, key, kindNumber, tok.String())
		default:
			_, err = t.add(parent, key, kindLiteral, "")
		}
		if err != nil {
			return err
		}
	}
}

// FuzzJSONTreeAgrees: jsonTree reads every body into the tree the reference
// reads (same keys, values and shape), and fails exactly when it fails.
func FuzzJSONTreeAgrees(f *testing.F) {
	for _, s := range []string{`{"phone":"+447400123456","user":{"phone":"1"}}`, `{"a\u0062":"x\n\"y","n":-1.5e3,"l":[true,null,{"k":"v"}]}`,
		`{"phone":"a"} {"phone":"b"}`, `[1,2,"\ud800"]`, "{\"\xff\":\"\xfe\"}", `{"a":`, `{"a" "b"}`, `  "top"  `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, want := newTree(16), newTree(16)
		errGot, errWant := jsonTree(body, got), referenceJSONTree(body, want)
		if (errGot == nil) != (errWant == nil) {
			t.Fatalf("jsonTree error %v, reference %v", errGot, errWant)
		}
		if errGot == nil && !slices.Equal(got.nodes, want.nodes) {
			t.Fatalf("trees differ:\n%+v\n%+v", got.nodes, want.nodes)
		}
	})
}

// TestWalkerResetKeepsNoBody: a walker given back to the pool holds no key or
// value of the body it walked, whether its buffers sufficed or not.
func TestWalkerResetKeepsNoBody(t *testing.T) {
	var many strings.Builder
	many.WriteString(`{"note":"x"`)
	for i := range 40 {
		fmt.Fprintf(&many, `,"t%d":"text %d","phone%d":"+4474001234%02d"`, i, i, i, i)
	}
	many.WriteString("}")
	trees := map[string]*tree{}
	for name, body := range map[string]string{"many values": many.String(),
		"attributes": `{"a":[{"Name":"phone_number","Value":"+33612326616"}]}`} {
		b, err := readBody("application/json", []byte(body), policy.MismatchParse)
		if err != nil {
			t.Fatal(err)
		}
		trees[name] = b.tree
	}
	// Deeper than any parser builds: more keys than the walker's buffer holds.
	deep := newTree(64)
	parent := int32(0)
	for range 2 * maxDepth {
		parent, _ = deep.add(parent, "k", kindObject, "")
	}
	deep.add(parent, "phone", kindString, "+447400123456")
	trees["deep"] = deep
	for name, tr := range trees {
		w := &walker{}
		w.t, w.fields, w.auto = tr, []policy.Field{{Path: "auto", Auto: true}}, true
		w.keys, w.out, w.texts = w.keyBuf[:0], w.outBuf[:0], w.textBuf[:0]
		w.walk(0)
		if len(w.out) == 0 {
			t.Fatalf("%s: nothing found", name)
		}
		w.reset()
		if w.keyBuf != [len(w.keyBuf)]string{} || w.outBuf != [len(w.outBuf)]found{} || w.textBuf != [len(w.textBuf)]string{} ||
			w.t != nil || w.fields != nil || w.auto || w.keys != nil || w.out != nil || w.texts != nil || w.err != nil {
			t.Errorf("%s: a reset walker holds %+v", name, *w)
		}
	}
}
