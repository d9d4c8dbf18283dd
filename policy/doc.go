// Package policy is the YAML side of phonegate: what operators write to say
// which requests are checked, where their phone numbers are, and what to do
// with each number.
//
// # Schema (version 1)
//
//	version: 1
//	routes:                        # tried in order; the first match is used
//	  - name: signup
//	    match:                     # every part is optional
//	      path: /signup            # exact path, query excluded
//	      path_prefix: /api/       # or a prefix
//	      methods: [POST]
//	    fields: [phone, user.phone, "contacts[*].phone"]   # or [auto]
//	    region: US                 # hint for numbers without a country code
//	    policy: standard           # a preset or a policy below
//	    on_no_number: allow        # default allow
//	    on_partial_body: reject    # Envoy cut the body; default reject
//	    on_unparsable_body: reject # default reject
//	policies:
//	  - name: strict-signup
//	    rules:                     # the first rule whose `when` holds decides
//	      - name: premium
//	        when: insight.line_type == "premium_rate"   # CEL, must give a bool
//	        action: reject         # allow, tag or reject
//	        status: 403            # reject only, 4xx, default 403
//	        message: premium-rate numbers cannot sign up
//	      - when: insight.confidence == "low"
//	        action: tag
//	        tags: [review]
//
// Envoy may name a route directly with the context_extensions key
// phonegate-route; otherwise the first route whose match fits is used. A
// number that no rule catches is allowed.
//
// Rules are CEL (cel.dev/cel-go) over two variables: `insight`, the number's
// insight with the field names of its JSON form (insight.confidence,
// insight.country.iso2, insight.risk_score, ...), and `request` (method, path,
// host, headers, client_ip). A rule that fails at run time (reading a header
// that is absent, say: test with `"x-h" in request.headers` first) is a fault,
// not a decision.
//
// # Presets
//
// high-trust, standard and enrichment are built in (builtin/presets.yaml) and
// may be named by any route; a policy of the same name replaces a preset.
//
// # Errors
//
// [Compile] and [Load] check everything before anything serves: unknown keys
// (with the list of known ones), wrong types, unknown actions, CEL that does
// not compile or does not give a bool, duplicate names, a route naming a
// missing policy. Each problem is an [*Error] at file:line:col, and all of them
// come back together as an [ErrorList].
//
// This package knows nothing of gRPC or Envoy; package filter builds the
// [Request] it reads.
package policy
