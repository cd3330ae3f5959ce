/** Test doubles: a settable counter clocksource and arch hooks that read a fake host. */
import type { ClocksourceId, KvmError } from '@kvmlab/hypervisor-core';
import type { GuestClocksource, PtpKvmArchHooks, PtpKvmCrosststamp, Timespec64 } from '../src/index.js';
import { nsToTimespec64 } from '../src/index.js';

export class FakeCounter implements GuestClocksource {
  readonly name = 'fake_counter';
  readonly csId: ClocksourceId;
  readonly hz: bigint;
  readonly maskBits = 56;
  value = 1_000n;
  constructor(hz = 1_000_000_000n, csId: ClocksourceId = 'CSID_ARM_ARCH_COUNTER') {
    this.hz = hz;
    this.csId = csId;
  }
  read(): bigint {
    return this.value;
  }
}

export class FakeHooks implements PtpKvmArchHooks {
  initError: KvmError | undefined;
  exited = false;
  /** The device time and counter the next crosststamp reports. */
  device = 1_700_000_000_123_456_789n;
  cycles = 1_000n;
  csId: ClocksourceId = 'CSID_ARM_ARCH_COUNTER';
  calls = 0;
  init(): void {
    if (this.initError) throw this.initError;
  }
  getClock(): Timespec64 {
    this.calls++;
    return nsToTimespec64(this.device);
  }
  getCrosststamp(): PtpKvmCrosststamp {
    this.calls++;
    return { cycles: this.cycles, deviceTime: nsToTimespec64(this.device), csId: this.csId };
  }
  exit(): void {
    this.exited = true;
  }
}
