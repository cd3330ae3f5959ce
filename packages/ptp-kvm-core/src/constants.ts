/** PTP clock ABI values (include/uapi/linux/ptp_clock.h, include/uapi/linux/timex.h). */

export const PTP_CLK_MAGIC = 0x3d; // include/uapi/linux/ptp_clock.h ('=')
export const PTP_MAX_SAMPLES = 25; // include/uapi/linux/ptp_clock.h

const IOC_NONE = 0;
const IOC_WRITE = 1;
const IOC_READ = 2;
/** _IOC(dir, type, nr, size) (include/uapi/asm-generic/ioctl.h). */
export const ioc = (dir: number, type: number, nr: number, size: number): number =>
  ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0;

/** sizeof(struct ptp_clock_caps) = 80 (ptp_clock.h). */
export const PTP_CLOCK_CAPS_SIZE = 80;
/** sizeof(struct ptp_sys_offset) = 16 + 16 × (2 × 25 + 1) = 832 (ptp_clock.h). */
export const PTP_SYS_OFFSET_SIZE = 832;
/** sizeof(struct ptp_sys_offset_precise) = 64 (ptp_clock.h). */
export const PTP_SYS_OFFSET_PRECISE_SIZE = 64;
/** sizeof(struct ptp_sys_offset_extended) = 16 + 16 × 3 × 25 = 1216 (ptp_clock.h). */
export const PTP_SYS_OFFSET_EXTENDED_SIZE = 1216;

export const PTP_CLOCK_GETCAPS = ioc(IOC_READ, PTP_CLK_MAGIC, 1, PTP_CLOCK_CAPS_SIZE); // ptp_clock.h
export const PTP_SYS_OFFSET = ioc(IOC_WRITE, PTP_CLK_MAGIC, 5, PTP_SYS_OFFSET_SIZE); // ptp_clock.h
export const PTP_SYS_OFFSET_PRECISE = ioc(IOC_READ | IOC_WRITE, PTP_CLK_MAGIC, 8, PTP_SYS_OFFSET_PRECISE_SIZE); // ptp_clock.h
export const PTP_SYS_OFFSET_EXTENDED = ioc(IOC_READ | IOC_WRITE, PTP_CLK_MAGIC, 9, PTP_SYS_OFFSET_EXTENDED_SIZE); // ptp_clock.h
export const PTP_CLOCK_GETCAPS2 = ioc(IOC_READ, PTP_CLK_MAGIC, 10, PTP_CLOCK_CAPS_SIZE); // ptp_clock.h
export const PTP_SYS_OFFSET2 = ioc(IOC_WRITE, PTP_CLK_MAGIC, 14, PTP_SYS_OFFSET_SIZE); // ptp_clock.h
export const PTP_SYS_OFFSET_PRECISE2 = ioc(IOC_READ | IOC_WRITE, PTP_CLK_MAGIC, 17, PTP_SYS_OFFSET_PRECISE_SIZE); // ptp_clock.h
export const PTP_SYS_OFFSET_EXTENDED2 = ioc(IOC_READ | IOC_WRITE, PTP_CLK_MAGIC, 18, PTP_SYS_OFFSET_EXTENDED_SIZE); // ptp_clock.h
export const IOC_DIR_NONE = IOC_NONE;

/** The ptp_kvm clock's name (drivers/ptp/ptp_kvm_common.c); udev links /dev/ptp_kvm by it. */
export const PTP_KVM_CLOCK_NAME = 'KVM virtual PTP';

/** Dynamic posix clocks: CLOCKFD = 3, FD_TO_CLOCKID(fd) = (~fd << 3) | CLOCKFD (include/linux/posix-timers.h). */
export const CLOCKFD = 3;
export const fdToClockid = (fd: number): number => ((~fd) << 3) | CLOCKFD;
export const clockidToFd = (clk: number): number => ~(clk >> 3);

/** adjtimex modes (include/uapi/linux/timex.h). */
export const ADJ_OFFSET = 0x0001; // timex.h
export const ADJ_FREQUENCY = 0x0002; // timex.h
export const ADJ_SETOFFSET = 0x0100; // timex.h
export const ADJ_NANO = 0x2000; // timex.h
