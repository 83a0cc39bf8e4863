// CPU time and RSS of another process, from /proc (Linux only; null elsewhere).
import { readFileSync } from 'node:fs';

export function procStats(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, in USER_HZ (100) ticks: user space (JavaScript, V8, libuv) and the kernel's work for it.
    const userMs = (Number(fields[14 - 3]) * 1000) / 100;
    const systemMs = (Number(fields[15 - 3]) * 1000) / 100;
    const cpuMs = userMs + systemMs;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { cpuMs, userMs, systemMs, rssMb: Math.round((rssKb / 1024) * 10) / 10 };
  } catch {
    return null;
  }
}

/** The whole machine's CPU time so far, busy and in all, in jiffies (from /proc/stat; null elsewhere). */
export function machineCpu() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, value) => sum + value, 0);
    // idle and iowait are the 4th and 5th fields.
    return { busy: total - fields[3] - fields[4], total };
  } catch {
    return null;
  }
}
