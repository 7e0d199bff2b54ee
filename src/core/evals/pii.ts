// PII and secrets in model output: the detectors behind the `pii` guardrail criterion.
// Patterns find candidates; checksums and number rules (Luhn, mod-97, SSN areas) drop look-alikes.

import { isIPv6 } from 'node:net';

export type PiiKind = 'email' | 'phone' | 'card' | 'iban' | 'national_id' | 'ip' | 'secret';

export interface PiiFinding {
  kind: PiiKind;
  match: string;
  index: number;
}

export const PII_KINDS: readonly PiiKind[] = [
  'email',
  'phone',
  'card',
  'iban',
  'national_id',
  'ip',
  'secret',
];

/** Luhn (mod 10) check over the digits of `digits`; spaces and dashes are ignored. */
export function luhnValid(digits: string): boolean {
  const d = digits.replace(/[ -]/g, '');
  if (!/^\d{2,}$/.test(d)) return false;
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let n = d.charCodeAt(d.length - 1 - i) - 48;
    if (i % 2 === 1) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
  }
  return sum % 10 === 0;
}

// IBAN lengths from the SWIFT IBAN registry. A country missing here is still accepted on
// the mod-97 check alone, so an out-of-date table costs precision, not recall.
const IBAN_LENGTHS: Record<string, number> = Object.fromEntries(
  (
    'AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 ' +
    'DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28 ' +
    'IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 ' +
    'MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 ' +
    'SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30'
  )
    .split(' ')
    .map((e) => [e.slice(0, 2), Number(e.slice(2))]),
);

/** ISO 13616 check: country code, two check digits, up to 30 alphanumerics, mod 97 == 1. Spaces are ignored. */
export function ibanValid(iban: string): boolean {
  const s = iban.replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(s)) return false;
  const expectedLength = IBAN_LENGTHS[s.slice(0, 2)];
  if (expectedLength !== undefined && s.length !== expectedLength) return false;
  // Check digits 00, 01 and 99 are never issued.
  const check = s.slice(2, 4);
  if (check === '00' || check === '01' || check === '99') return false;
  // Move the first four characters to the end, letters become 10..35, and take the
  // remainder digit by digit so the number never leaves the safe integer range.
  const rearranged = s.slice(4) + s.slice(0, 4);
  let rest = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : ch;
    for (const digit of value) rest = (rest * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return rest === 1;
}

interface Candidate extends PiiFinding {
  /** Lower wins when two candidates overlap. */
  rank: number;
}

type Detector = (text: string, push: (kind: PiiKind, match: string, index: number) => void) => void;

/** Every match of a global regex; `accept` may veto or trim one (return the kept text, or null). */
function scan(
  text: string,
  re: RegExp,
  kind: PiiKind,
  push: (kind: PiiKind, match: string, index: number) => void,
  accept?: (m: RegExpExecArray) => { match: string; index: number } | null,
): void {
  for (const m of text.matchAll(re)) {
    const exec = m as RegExpExecArray;
    if (!accept) {
      push(kind, m[0], m.index);
      continue;
    }
    const kept = accept(exec);
    if (kept) push(kind, kept.match, kept.index);
  }
}

// Patterns open with a lookbehind that refuses to begin inside a run of their own
// characters (or with a literal such as -----BEGIN): matches start only where a token
// starts, so scanning stays linear.

// Local part: the characters addresses use in practice (quotes and braces around an
// address are punctuation, not part of it); no leading, trailing or doubled dots.
const EMAIL =
  /(?<![\w%+.-])[\w%+-]+(?:\.[\w%+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![\w-]|\.[A-Za-z0-9])/g;

// International: "+", then 8 to 15 digits with at most two separators between digits.
const PHONE_INTL = /(?<![\w+])\+\(?\d(?:[ .\-()]{0,2}\d){7,20}(?![\w])/g;
// North American: (555) 123-4567, 555-123-4567, 555.123.4567, 555 123 4567 (one separator throughout).
const PHONE_NANP =
  /(?<![\w.+-])(?:\(\d{3}\) ?\d{3}[-. ]\d{4}|\d{3}([-. ])\d{3}\1\d{4})(?![\w]|[.-]\d)/g;
// Trunk-prefixed national numbers: 020 7946 0958, 07700 900123, 01 23 45 67 89.
const PHONE_TRUNK =
  /(?<![\w.+-])(?:0\d{2,4} \d{3,4}(?: \d{3,4})?|0\d{4} \d{6}|0[1-9]([ .])\d{2}(?:\1\d{2}){3})(?![\w]|[.-]\d)/g;

// 13-19 digits in one run, or the printed layouts 4-4-4-4(-3), 4-6-5 and 4-6-4.
const CARD =
  /(?<![\w+-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?|\d{4}([ -])\d{6}\2\d{4,5})(?!\w)/g;

// Either one run, or groups of four separated by single spaces with a shorter last group.
const IBAN =
  /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])/g;

// SSN areas 000, 666 and 900-999, group 00 and serial 0000 are never issued.
const SSN = /(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w]|-\d)/g;
// NINO: first letter not D F I Q U V, second not D F I O Q U V, prefixes BG GB KN NK NT TN ZZ unused.
const NINO =
  /(?<![A-Za-z0-9])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])/g;

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
// Not preceded or followed by more dotted numbers: 1.2.3.4.5 is a version, not an address.
const IPV4 = new RegExp(`(?<![\\w.])(?:${OCTET}\\.){3}${OCTET}(?![\\w]|\\.\\d)`, 'g');
// Candidates only; node:net decides what is an address (MAC addresses and times are not).
const IPV6 =
  /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}|[0-9A-Fa-f]{0,4})(?![\w:]|\.\d)/g;

const AWS_KEY = /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g;
const GITHUB_TOKEN =
  /(?<![\w])(?:gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9])|github_pat_[A-Za-z0-9_]{22,255}(?![\w]))/g;
const OPENAI_KEY = /(?<![\w-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}(?![\w-])/g;
const SLACK_TOKEN = /(?<![\w-])xox[baprs]-[A-Za-z0-9-]{8,}[A-Za-z0-9](?![\w-])/g;
const PRIVATE_KEY =
  /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----(?:[\s\S]*?-----END \1PRIVATE KEY-----)?/g;
const JWT = /(?<![\w-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}(?![\w-])/g;
// `api_key=...`, `"token": "..."`, `DB_PASSWORD: ...`: a name ending in a secret word, then a value.
const ASSIGNMENT =
  /(?<![\w.-])[\w.-]*?(?:api[_-]?key|apikey|access[_-]?key|secret|token|password|passwd|pwd|credentials?)["']?[ \t]*[:=][ \t]*["']?([^\s"'`,;&<>(){}[\]]{16,})/gi;

// Values that name where a secret lives rather than being one.
const PLACEHOLDER =
  /^(?:\$|%|process\.env|os\.environ|os\.getenv|getenv|env\.|settings\.|config\.|your[_-])|^(.)\1*$|^[xX*.•_-]+$/;

const detectors: Detector[] = [
  (t, push) => scan(t, EMAIL, 'email', push),
  (t, push) =>
    scan(t, PHONE_INTL, 'phone', push, (m) => {
      const digits = m[0].replace(/\D/g, '').length;
      if (digits < 8 || digits > 15) return null;
      // Parentheses only as one balanced pair, e.g. +1 (555) or +44 (0)20.
      const open = m[0].split('(').length - 1;
      const close = m[0].split(')').length - 1;
      if (open !== close || open > 1 || (open === 1 && m[0].indexOf('(') > m[0].indexOf(')'))) {
        return null;
      }
      return { match: m[0], index: m.index };
    }),
  (t, push) => scan(t, PHONE_NANP, 'phone', push),
  (t, push) =>
    scan(t, PHONE_TRUNK, 'phone', push, (m) => {
      const digits = m[0].replace(/\D/g, '').length;
      return digits >= 10 && digits <= 11 ? { match: m[0], index: m.index } : null;
    }),
  (t, push) =>
    // Issuer ranges start with 2-6 (ISO/IEC 7812); this keeps out millisecond timestamps and ids.
    scan(t, CARD, 'card', push, (m) =>
      /^[2-6]/.test(m[0]) && luhnValid(m[0]) ? { match: m[0], index: m.index } : null,
    ),
  (t, push) =>
    scan(t, IBAN, 'iban', push, (m) => {
      // A spaced IBAN followed by another 4-letter word swallows it: retry without trailing groups.
      let s = m[0];
      while (s.length >= 15) {
        if (ibanValid(s)) return { match: s, index: m.index };
        const cut = s.lastIndexOf(' ');
        if (cut < 0) break;
        s = s.slice(0, cut);
      }
      return null;
    }),
  (t, push) => scan(t, SSN, 'national_id', push),
  (t, push) => scan(t, NINO, 'national_id', push),
  (t, push) => scan(t, IPV4, 'ip', push),
  (t, push) =>
    scan(t, IPV6, 'ip', push, (m) =>
      // "::" alone is Haskell or C++ more often than the unspecified address.
      /[0-9A-Fa-f]/.test(m[0]) && isIPv6(m[0]) ? { match: m[0], index: m.index } : null,
    ),
  (t, push) => scan(t, AWS_KEY, 'secret', push),
  (t, push) => scan(t, GITHUB_TOKEN, 'secret', push),
  (t, push) =>
    // Random keys carry digits; hyphenated prose after "sk-" does not.
    scan(t, OPENAI_KEY, 'secret', push, (m) =>
      /\d/.test(m[0]) ? { match: m[0], index: m.index } : null,
    ),
  (t, push) => scan(t, SLACK_TOKEN, 'secret', push),
  (t, push) => scan(t, PRIVATE_KEY, 'secret', push),
  (t, push) =>
    scan(t, JWT, 'secret', push, (m) => {
      // The header must decode to a JSON object; "eyJ" alone is just `{"` in base64.
      try {
        const header: unknown = JSON.parse(
          Buffer.from(m[0].slice(0, m[0].indexOf('.')), 'base64url').toString('utf8'),
        );
        return header && typeof header === 'object' && !Array.isArray(header)
          ? { match: m[0], index: m.index }
          : null;
      } catch {
        return null;
      }
    }),
  (t, push) =>
    scan(t, ASSIGNMENT, 'secret', push, (m) => {
      const value = m[1]!;
      if (PLACEHOLDER.test(value)) return null;
      // Report the value (the secret), not the name in front of it.
      return { match: value, index: m.index + m[0].length - value.length };
    }),
];

// When candidates overlap, the kind that is harder to match by accident wins: secrets,
// then the checksummed numbers (an IBAN over a card-shaped run inside it, a card over a
// phone-shaped one), then the rest. Within a kind, the longer match wins.
const RANK: Record<PiiKind, number> = {
  secret: 0,
  iban: 1,
  card: 2,
  national_id: 3,
  email: 4,
  ip: 5,
  phone: 6,
};

/**
 * Finds PII and secrets in `text`, sorted by index, never overlapping. Every detector runs
 * and overlaps are settled before `kinds` filters, so a card number is never reported as
 * a phone even when only phones are asked for.
 */
export function findPii(text: string, kinds?: PiiKind[]): PiiFinding[] {
  const candidates: Candidate[] = [];
  const push = (kind: PiiKind, match: string, index: number): void => {
    candidates.push({ kind, match, index, rank: RANK[kind] });
  };
  for (const detect of detectors) detect(text, push);

  candidates.sort(
    (a, b) => a.rank - b.rank || b.match.length - a.match.length || a.index - b.index,
  );
  const kept: Candidate[] = [];
  for (const c of candidates) {
    const end = c.index + c.match.length;
    if (kept.some((k) => c.index < k.index + k.match.length && k.index < end)) continue;
    kept.push(c);
  }
  const wanted = kinds ? new Set(kinds) : null;
  return kept
    .filter((c) => !wanted || wanted.has(c.kind))
    .sort((a, b) => a.index - b.index)
    .map(({ kind, match, index }) => ({ kind, match, index }));
}
