/**
 * The servo contract the ptp-sync harness drives: it is fed one measured offset every
 * `sampleIntervalS` and answers what to do to the local clock (step it, and/or set its total
 * frequency correction as adjtimex ADJ_FREQUENCY does).
 */
import { PiServo } from './pi-servo.js';

export interface ServoAction {
  /** Step the clock by this many ns (clock_adjtime ADJ_SETOFFSET). */
  readonly stepNs?: number;
  /** Set the total frequency correction to this many ppb (ADJ_FREQUENCY). */
  readonly freqPpb?: number;
}

export interface ClockServo {
  readonly name: string;
  /** Seconds between PHC readings the servo wants. */
  readonly sampleIntervalS: number;
  /** `offsetNs` = local − reference; `localS` = local time of the reading, s. */
  sample(offsetNs: number, localS: number): ServoAction;
}

/** phc2sys: the PI servo read every poll interval; a jump steps by −offset, then −ppb is dialed. */
export function piClockServo(pollLog2: number): ClockServo {
  const intervalS = 2 ** pollLog2;
  const pi = new PiServo({ intervalS });
  return {
    name: 'pi',
    sampleIntervalS: intervalS,
    sample(offsetNs, localS) {
      const out = pi.sample(offsetNs, localS);
      if (out.state === 'jump') return { stepNs: -offsetNs, freqPpb: -out.ppb };
      if (out.state === 'locked') return { freqPpb: -out.ppb };
      return {};
    },
  };
}
