import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseByteSize, parseDuration } from './duration';

describe('parseDuration', () => {
  const cases: { name: string; input: string; want: number | null }[] = [
    { name: 'milliseconds', input: '500ms', want: 500 },
    { name: 'seconds', input: '90s', want: 90_000 },
    { name: 'minutes', input: '30m', want: 1_800_000 },
    { name: 'hours', input: '10h', want: 36_000_000 },
    { name: 'days', input: '7d', want: 604_800_000 },
    { name: 'combined', input: '1h30m', want: 5_400_000 },
    { name: 'minutes then milliseconds', input: '1m1ms', want: 60_001 },
    { name: 'ms is not m', input: '10ms', want: 10 },
    { name: 'zero is a number (config refuses it)', input: '0s', want: 0 },
    { name: 'upper case and spaces around', input: '  10H ', want: 36_000_000 },
    { name: 'bare number refused', input: '30', want: null },
    { name: 'empty', input: '', want: null },
    { name: 'unit alone', input: 'ms', want: null },
    { name: 'negative', input: '-5s', want: null },
    { name: 'fraction', input: '1.5h', want: null },
    { name: 'unknown unit', input: '5x', want: null },
    { name: 'weeks are not a unit', input: '2w', want: null },
    { name: 'space inside', input: '1h 30m', want: null },
    { name: 'trailing number', input: '1h30', want: null },
    { name: 'words', input: '10 minutes', want: null },
    { name: 'too large to be exact', input: '9999999999999999d', want: null },
  ];
  for (const { name, input, want } of cases) {
    test(name, () => {
      assert.equal(parseDuration(input), want);
    });
  }
});

describe('parseByteSize', () => {
  const cases: { name: string; input: string; want: number | null }[] = [
    { name: 'bare bytes', input: '10485760', want: 10_485_760 },
    { name: 'b', input: '512b', want: 512 },
    { name: 'KB is binary', input: '512kb', want: 524_288 },
    { name: 'KiB', input: '1KiB', want: 1_024 },
    { name: 'MB', input: '10MB', want: 10_485_760 },
    { name: 'MiB with a space', input: '10 MiB', want: 10_485_760 },
    { name: 'GB', input: '1gb', want: 1_073_741_824 },
    { name: 'spaces around', input: ' 1mb ', want: 1_048_576 },
    { name: 'zero', input: '0', want: 0 },
    { name: 'empty', input: '', want: null },
    { name: 'unit alone', input: 'mb', want: null },
    { name: 'fraction', input: '1.5MB', want: null },
    { name: 'negative', input: '-1', want: null },
    { name: 'unknown unit', input: '1TB', want: null },
    { name: 'inherited property name is not a unit', input: '10constructor', want: null },
    { name: '__proto__ is not a unit', input: '10__proto__', want: null },
    { name: 'too large to be exact', input: '99999999999gb', want: null },
  ];
  for (const { name, input, want } of cases) {
    test(name, () => {
      assert.equal(parseByteSize(input), want);
    });
  }
});
