// PII and secret detection for the `pii` guardrail: every kind's true positives and the
// look-alikes it must leave alone (checksums that fail, dates, years, versions).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findPii, ibanValid, luhnValid } from '../../src/core/evals/pii.ts';
import type { PiiKind } from '../../src/core/evals/pii.ts';

/** The matched texts of one kind. */
function found(text: string, kind: PiiKind): string[] {
  return findPii(text, [kind]).map((f) => f.match);
}

function none(text: string): void {
  assert.deepEqual(findPii(text), [], `expected no findings in ${JSON.stringify(text)}`);
}

describe('luhnValid and ibanValid', () => {
  test('Luhn accepts test card numbers and refuses a changed digit', () => {
    assert.equal(luhnValid('4111111111111111'), true);
    assert.equal(luhnValid('4111 1111 1111 1111'), true);
    assert.equal(luhnValid('378282246310005'), true);
    assert.equal(luhnValid('4111111111111112'), false);
    assert.equal(luhnValid('4111x111'), false);
    assert.equal(luhnValid(''), false);
  });

  test('IBAN mod-97 accepts registry examples, spaced or not, any case', () => {
    assert.equal(ibanValid('DE89 3704 0044 0532 0130 00'), true);
    assert.equal(ibanValid('GB82WEST12345698765432'), true);
    assert.equal(ibanValid('gb82 west 1234 5698 7654 32'), true);
    assert.equal(ibanValid('NO9386011117947'), true);
    assert.equal(ibanValid('FR1420041010050500013M02606'), true);
  });

  test('IBAN refuses a wrong check digit, a wrong length for the country and junk', () => {
    assert.equal(ibanValid('DE88 3704 0044 0532 0130 00'), false);
    assert.equal(ibanValid('GB82WEST12345698765433'), false);
    assert.equal(ibanValid('NL91ABNA041716430'), false);
    assert.equal(ibanValid('DE89370400440532013000 1'), false);
    assert.equal(ibanValid('1234567890123456'), false);
  });
});

describe('findPii: email', () => {
  test('finds addresses, without a sentence-ending dot or surrounding quotes', () => {
    assert.deepEqual(found('Write to john.doe+tag@example.co.uk.', 'email'), [
      'john.doe+tag@example.co.uk',
    ]);
    assert.deepEqual(found('"jane_o@mail.example.org", ok', 'email'), ['jane_o@mail.example.org']);
  });

  test('leaves alone what is not an address', () => {
    none('user@localhost');
    none('a@b');
    none('john..doe@example.com');
    none('the @ sign and example.com');
  });
});

describe('findPii: phone', () => {
  test('finds international numbers with spaces, dots, dashes and parentheses', () => {
    for (const p of [
      '+1 (555) 123-4567',
      '+44 20 7946 0958',
      '+33.1.23.45.67.89',
      '+4915112345678',
    ]) {
      assert.deepEqual(found(`call ${p} today`, 'phone'), [p]);
    }
  });

  test('finds common national formats', () => {
    for (const p of [
      '(555) 123-4567',
      '555-123-4567',
      '555.123.4567',
      '020 7946 0958',
      '01 23 45 67 89',
    ]) {
      assert.deepEqual(found(`call ${p} today`, 'phone'), [p]);
    }
  });

  test('leaves alone years, dates, versions, short and over-long numbers', () => {
    none('It happened in 2024.');
    none('Released 2024-01-15 as version 1.2.3 (build 10.15.7).');
    none('Order 12345 of 678 items, room 0 123 4567');
    none('+123 4567');
    none('+1 234 567 890 123 456 789');
  });
});

describe('findPii: card', () => {
  test('finds Luhn-valid numbers, run together or grouped', () => {
    assert.deepEqual(found('card 4111111111111111 on file', 'card'), ['4111111111111111']);
    assert.deepEqual(found('card 4111 1111 1111 1111.', 'card'), ['4111 1111 1111 1111']);
    assert.deepEqual(found('MC 5555-5555-5555-4444', 'card'), ['5555-5555-5555-4444']);
    assert.deepEqual(found('Amex 3782 822463 10005', 'card'), ['3782 822463 10005']);
    assert.deepEqual(found('Discover 6011111111111117', 'card'), ['6011111111111117']);
  });

  test('a 16-digit number failing Luhn is not a card', () => {
    none('ref 4111111111111112');
    none('ref 4111 1111 1111 1112');
  });

  test('a Luhn-valid millisecond timestamp is not a card (issuer digits are 2-6)', () => {
    assert.equal(luhnValid('1700000000004'), true);
    none('at 1700000000004');
  });

  test('a card is never also reported as a phone', () => {
    // Its last three groups alone read as a trunk-prefixed phone number.
    assert.deepEqual(found('0123 4567 892', 'phone'), ['0123 4567 892']);
    const card = '4111 1111 0123 4567 892';
    assert.equal(luhnValid(card), true);
    assert.deepEqual(findPii(card), [{ kind: 'card', match: card, index: 0 }]);
    assert.deepEqual(findPii(card, ['phone']), []);
  });

  test('a number after "+" is a phone, not a card', () => {
    assert.deepEqual(findPii('+4915112345678'), [
      { kind: 'phone', match: '+4915112345678', index: 0 },
    ]);
  });
});

describe('findPii: iban', () => {
  test('finds valid IBANs, spaced every 4 or run together', () => {
    assert.deepEqual(found('Pay DE89 3704 0044 0532 0130 00 now', 'iban'), [
      'DE89 3704 0044 0532 0130 00',
    ]);
    assert.deepEqual(found('IBAN: GB82WEST12345698765432.', 'iban'), ['GB82WEST12345698765432']);
  });

  test('a trailing capitalized word is not swallowed', () => {
    assert.deepEqual(found('GB29 NWBK 6016 1331 9268 19 THEN', 'iban'), [
      'GB29 NWBK 6016 1331 9268 19',
    ]);
  });

  test('an IBAN with a wrong check digit is not reported', () => {
    assert.deepEqual(found('Pay DE88 3704 0044 0532 0130 00 now', 'iban'), []);
    assert.deepEqual(found('GB82WEST12345698765433', 'iban'), []);
  });
});

describe('findPii: national_id', () => {
  test('finds US SSNs and UK National Insurance numbers', () => {
    assert.deepEqual(found('SSN 123-45-6789.', 'national_id'), ['123-45-6789']);
    assert.deepEqual(found('NI number AB123456C', 'national_id'), ['AB123456C']);
    assert.deepEqual(found('NI: JG 10 37 60 A', 'national_id'), ['JG 10 37 60 A']);
  });

  test('leaves alone SSNs with never-issued areas, groups and serials', () => {
    for (const s of ['999-12-3456', '000-12-3456', '666-12-3456', '123-00-4567', '123-45-0000']) {
      assert.deepEqual(found(`SSN ${s}`, 'national_id'), [], s);
    }
  });

  test('leaves alone NI numbers with excluded letters, prefixes or suffixes', () => {
    for (const s of [
      'QQ123456C',
      'DA123456C',
      'AO123456C',
      'GB123456A',
      'ZZ123456A',
      'AB123456E',
    ]) {
      assert.deepEqual(found(`NI ${s}`, 'national_id'), [], s);
    }
  });
});

describe('findPii: ip', () => {
  test('finds IPv4 addresses, also before a port or at a sentence end', () => {
    assert.deepEqual(found('hosts 192.168.0.1, 8.8.8.8 and 10.0.0.1:8080.', 'ip'), [
      '192.168.0.1',
      '8.8.8.8',
      '10.0.0.1',
    ]);
  });

  test('finds IPv6 addresses, full and compressed', () => {
    assert.deepEqual(
      found(
        'a 2001:0db8:85a3:0000:0000:8a2e:0370:7334 b 2001:db8::1 c ::1 d ::ffff:192.0.2.1',
        'ip',
      ),
      ['2001:0db8:85a3:0000:0000:8a2e:0370:7334', '2001:db8::1', '::1', '::ffff:192.0.2.1'],
    );
  });

  test('leaves alone octets over 255, versions, leading zeros, times, MACs and ::', () => {
    none('256.1.1.1');
    none('v1.2.3 and 1.2.3.4.5');
    none('01.02.03.04');
    none('at 12:30:45');
    none('mac 00:1A:2B:3C:4D:5E');
    none('std::vector and x :: Int');
  });
});

describe('findPii: secret', () => {
  const gh = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';

  test('finds provider keys and tokens', () => {
    const cases = [
      'AKIAIOSFODNN7EXAMPLE',
      'ASIAY34FZKBOKMUTVV7A',
      gh,
      'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789',
      'sk-proj-abc123DEF456ghi789JKL0',
      'sk-abcdefghij0123456789ABCD',
      'xoxb-123456789012-1234567890123-AbCdEfGhIjKl',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    ];
    for (const s of cases) assert.deepEqual(found(`here: ${s} done`, 'secret'), [s], s);
  });

  test('finds a private key block, whole', () => {
    const key =
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----';
    assert.deepEqual(found(`key:\n${key}\n`, 'secret'), [key]);
    assert.deepEqual(found('-----BEGIN PRIVATE KEY-----\nMIIE', 'secret'), [
      '-----BEGIN PRIVATE KEY-----',
    ]);
  });

  test('finds generic assignments and reports the value only', () => {
    const text = 'api_key=abcdef1234567890XYZ and "password": "correcthorsebatterystaple"';
    const f = findPii(text, ['secret']);
    assert.deepEqual(
      f.map((x) => x.match),
      ['abcdef1234567890XYZ', 'correcthorsebatterystaple'],
    );
    assert.equal(text.slice(f[0]!.index, f[0]!.index + f[0]!.match.length), f[0]!.match);
    assert.deepEqual(found('DB_PASSWORD: s3cr3t-Value-0123456', 'secret'), [
      's3cr3t-Value-0123456',
    ]);
  });

  test('leaves alone near misses, short values, placeholders and look-alike names', () => {
    none('AKIA1234');
    none('ghp_short');
    none('use sk-learn-is-a-library-for-ml here');
    none('xoxb-123');
    none('eyJub3QganNvbg.abcdefghij.abcdefghijklmnop');
    none('password=hunter2');
    none('api_key = process.env.OPENAI_API_KEY');
    none('token: <your-token-goes-here>');
    none('password: ********************');
    none('max_tokens: 10000000000000000000');
  });
});

describe('findPii: results', () => {
  test('are sorted by index and never overlap', () => {
    const text =
      'ip 10.0.0.1, mail a@b.io, card 4111 1111 1111 1111, ssn 123-45-6789, ' +
      'key AKIAIOSFODNN7EXAMPLE, iban DE89 3704 0044 0532 0130 00, call +1 (555) 123-4567';
    const f = findPii(text);
    assert.deepEqual(
      f.map((x) => x.kind),
      ['ip', 'email', 'card', 'national_id', 'secret', 'iban', 'phone'],
    );
    for (let i = 1; i < f.length; i++) {
      assert.ok(f[i - 1]!.index + f[i - 1]!.match.length <= f[i]!.index);
    }
    for (const x of f) assert.equal(text.slice(x.index, x.index + x.match.length), x.match);
  });

  test('kinds restricts what is reported', () => {
    const text = 'mail a@b.io, ip 10.0.0.1';
    assert.deepEqual(
      findPii(text, ['ip']).map((x) => x.kind),
      ['ip'],
    );
    assert.deepEqual(findPii(text, []), []);
  });

  test('stays fast on long runs that almost match', () => {
    const start = performance.now();
    for (const s of [
      'x'.repeat(200_000) + '@',
      'a.'.repeat(100_000),
      '1:'.repeat(100_000),
      '+1 '.repeat(50_000),
    ]) {
      findPii(s);
    }
    assert.ok(performance.now() - start < 2_000);
  });
});
