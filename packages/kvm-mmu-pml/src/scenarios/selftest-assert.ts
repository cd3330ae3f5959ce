/**
 * The host-side TEST_ASSERTs of tools/testing/selftests/kvm/x86_64/vmx_dirty_log_test.c as the
 * series added it (Paolo's patch 3/3, 156 lines, unchanged in v5.4.0), with their line numbers,
 * and the text test_assert() (tools/testing/selftests/kvm/lib/assert.c of v5.4) prints on stderr
 * when one fails, so the model's failure reads as the real test's.
 */

/** __FILE__ as the selftests Makefile compiles it (from tools/testing/selftests/kvm). */
export const SELFTEST_FILE = 'x86_64/vmx_dirty_log_test.c';

export interface SelftestAssert {
  /** The line of the TEST_ASSERT in SELFTEST_FILE (v5.4.0). */
  readonly line: number;
  /** `#e`: the asserted expression as TEST_ASSERT stringifies it. */
  readonly expr: string;
  /** The format string (without its trailing "\n"). */
  readonly message: string;
  /** The page of slot 1 it checks. */
  readonly page: number;
  /** What it checks: the page's dirty bit set or clear, or its first qword equal to `qword`. */
  readonly check: 'dirty' | 'clean' | 'qword';
  readonly qword?: bigint;
}

/** The host's memset() pattern, as the test writes it. */
const PATTERN = '0xaaaaaaaaaaaaaaaaULL';
const AA = 0xaaaaaaaaaaaaaaaan;

/** Whether the assertion holds for a sync's dirty bits and first qwords (one per page). */
export function assertHolds(a: SelftestAssert, dirtyBit: (page: number) => boolean, qwords: readonly bigint[]): boolean {
  if (a.check === 'dirty') return dirtyBit(a.page);
  if (a.check === 'clean') return !dirtyBit(a.page);
  return qwords[a.page] === a.qword;
}

/** The UCALL_SYNC checks, in the test's order; `dirty` = uc.args[1] (page 0 must be dirty). */
export function syncAsserts(dirty: boolean): readonly SelftestAssert[] {
  const page0: readonly SelftestAssert[] = dirty
    ? [
        { line: 137, expr: 'test_bit(0, bmap)', message: 'Page 0 incorrectly reported clean', page: 0, check: 'dirty' },
        { line: 138, expr: 'host_test_mem[0] == 1', message: 'Page 0 not written by guest', page: 0, check: 'qword', qword: 1n },
      ]
    : [
        { line: 140, expr: '!test_bit(0, bmap)', message: 'Page 0 incorrectly reported dirty', page: 0, check: 'clean' },
        { line: 141, expr: `host_test_mem[0] == ${PATTERN}`, message: 'Page 0 written by guest', page: 0, check: 'qword', qword: AA },
      ];
  return [
    ...page0,
    { line: 144, expr: '!test_bit(1, bmap)', message: 'Page 1 incorrectly reported dirty', page: 1, check: 'clean' },
    { line: 145, expr: `host_test_mem[4096 / 8] == ${PATTERN}`, message: 'Page 1 written by guest', page: 1, check: 'qword', qword: AA },
    { line: 146, expr: '!test_bit(2, bmap)', message: 'Page 2 incorrectly reported dirty', page: 2, check: 'clean' },
    { line: 147, expr: `host_test_mem[8192 / 8] == ${PATTERN}`, message: 'Page 2 written by guest', page: 2, check: 'qword', qword: AA },
  ];
}

/** test_assert()'s exit status when an assertion fails (assert.c). */
export const TEST_ASSERT_EXIT_STATUS = 254;

/**
 * What test_assert() writes to stderr for a failed assertion: the banner, "file:line: expr",
 * then the message (the format's own "\n" and the one test_assert() adds leave an empty line).
 * Two lines of the real output are left out because the model has no process to show: the
 * "pid=… tid=… - strerror(errno)" line and the addr2line stack dump.
 */
export function testAssertionFailure(a: SelftestAssert): string {
  return ['==== Test Assertion Failure ====', `  ${SELFTEST_FILE}:${a.line}: ${a.expr}`, `  ${a.message}`, '', ''].join('\n');
}
