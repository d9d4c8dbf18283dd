#!/usr/bin/env node
// gen.js writes agreement.jsonl: Google libphonenumber's verdicts (the
// google-libphonenumber npm build, pinned in package.json) on numbers written
// the way users type them. insight/agreement_test.go replays every row through
// our engine and fails on any disagreement it does not list as known.
//
// Usage: npm ci && node gen.js
//
// Each line is one JSON object:
//   {"input", "region", "valid", "line_type", "country", "e164"}
// where region is the hint passed to parse ("" for none). The output is fully
// deterministic: the perturbations use a PRNG seeded from the number itself and
// the rows are sorted, so a rerun with the same package version gives the same
// file byte for byte.

'use strict';

const fs = require('fs');
const path = require('path');
const lpn = require('google-libphonenumber');

const util = lpn.PhoneNumberUtil.getInstance();
const PNF = lpn.PhoneNumberFormat;
const PNT = lpn.PhoneNumberType;

// The number types we take example numbers for (FIXED_LINE_OR_MOBILE and
// UNKNOWN have no example numbers of their own).
const EXAMPLE_TYPES = [
  'FIXED_LINE', 'MOBILE', 'TOLL_FREE', 'PREMIUM_RATE', 'SHARED_COST',
  'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL',
];

// The "00"-prefixed international form is only meaningful where 00 is the
// international dialling prefix, so it is always parsed with this hint (DE's
// IDD is 00). With no hint, or with e.g. "US" (IDD 011), Google would read the
// leading 00 as part of a national number instead.
const IDD_00_HINT = 'DE';

// PhoneNumberType enum value -> snake_case name, as our engine's LineType
// spells it: FIXED_LINE_OR_MOBILE -> "fixed_line_or_mobile", UNKNOWN -> "unknown".
const LINE_TYPE = {};
for (const [name, value] of Object.entries(PNT)) {
  LINE_TYPE[value] = name.toLowerCase();
}

// --- deterministic randomness -------------------------------------------------

// fnv1a hashes a string to 32 bits; it seeds the PRNG per number so a row's
// perturbations do not depend on which other numbers the metadata has.
function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// mulberry32 is a small seeded PRNG returning floats in [0, 1).
function mulberry32(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// --- inputs ---------------------------------------------------------------------

// perturbations returns three typos of s: one digit dropped, one digit added
// and one digit changed. Only digits at index >= from are touched, so the "+"
// and country code of an E.164 string stay intact.
function perturbations(s, from, rand) {
  const digits = [];
  for (let i = from; i < s.length; i++) {
    if (s[i] >= '0' && s[i] <= '9') digits.push(i);
  }
  if (digits.length === 0) return [];
  const pick = () => digits[Math.floor(rand() * digits.length)];
  const digit = () => String(Math.floor(rand() * 10));

  const drop = pick();
  const add = pick();
  const change = pick();
  // The changed digit must differ from the original one.
  const old = Number(s[change]);
  const changed = String((old + 1 + Math.floor(rand() * 9)) % 10);
  // Trimmed: dropping the first digit of "8 (809) ..." leaves a leading space.
  return [
    s.slice(0, drop) + s.slice(drop + 1),
    s.slice(0, add) + digit() + s.slice(add),
    s.slice(0, change) + changed + s.slice(change + 1),
  ].map((p) => p.trim());
}

// inputsFor returns the [input, regionHint] pairs written for one example
// number of region (or, for non-geographic numbers, region "001").
function inputsFor(num, region) {
  const e164 = util.format(num, PNF.E164);
  const intl = util.format(num, PNF.INTERNATIONAL);
  const national = util.format(num, PNF.NATIONAL);
  // A national form needs a region to be read against; non-geographic numbers
  // have none, so they are only written internationally.
  const geo = region !== '001';

  const out = [
    [e164, ''], // +442079460018
    [intl, ''], // +44 20 7946 0018
    ['00' + intl.slice(1), IDD_00_HINT], // 0044 20 7946 0018
    [intl.replace(/ /g, '-'), ''], // +44-20-7946-0018
  ];
  if (geo) {
    out.push([national, region]); // 020 7946 0018
    out.push([national.replace(/ /g, '-'), region]); // 020-7946-0018
  }

  // Typos: perturb the E.164 form after the country code, and the national form.
  const rand = mulberry32(fnv1a(e164));
  const cc = String(num.getCountryCodeOrDefault());
  for (const p of perturbations(e164, 1 + cc.length, rand)) out.push([p, '']);
  if (geo) {
    for (const p of perturbations(national, 0, rand)) out.push([p, region]);
  }
  return out;
}

function allInputs() {
  const out = [];
  const regions = util.getSupportedRegions().slice().sort();
  for (const region of regions) {
    for (const type of EXAMPLE_TYPES) {
      const num = util.getExampleNumberForType(region, PNT[type]);
      if (num) out.push(...inputsFor(num, region));
    }
  }
  // Non-geographic numbering plans (+800, +808, +870, +878, +881, +882, +883,
  // +888, +979): their numbers belong to region "001".
  const codes = util.getSupportedGlobalNetworkCallingCodes().slice().sort((a, b) => a - b);
  for (const cc of codes) {
    const num = util.getExampleNumberForNonGeoEntity(cc);
    if (num) out.push(...inputsFor(num, '001'));
  }
  return out;
}

// --- verdicts -------------------------------------------------------------------

// verdict is Google's answer for one input, in the fields our engine reports.
function verdict(input, region) {
  let num;
  try {
    num = util.parse(input, region);
  } catch (e) {
    return { valid: false, line_type: 'unknown', country: '', e164: '' };
  }
  const valid = util.isValidNumber(num);
  let country = util.getRegionCodeForNumber(num);
  if (country == null || country === 'ZZ') country = '';
  return {
    valid,
    // Our engine reports "unknown" for every invalid number; Google's
    // getNumberType already answers UNKNOWN for them, this just makes it explicit.
    line_type: valid ? LINE_TYPE[util.getNumberType(num)] : 'unknown',
    country,
    e164: util.format(num, PNF.E164),
  };
}

function main() {
  // Deduplicate on (input, region), then sort by code units for a stable file.
  const seen = new Map();
  for (const [input, region] of allInputs()) {
    seen.set(input + '|' + region, [input, region]);
  }
  const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  const pairs = [...seen.values()].sort((a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1]));

  const lines = pairs.map(([input, region]) =>
    JSON.stringify({ input, region, ...verdict(input, region) }));
  const file = path.join(__dirname, 'agreement.jsonl');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  console.log(`wrote ${lines.length} rows to ${path.relative(process.cwd(), file) || file}`);
}

main();
