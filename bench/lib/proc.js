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

/** The whole machine's CPU time so far, busy, stolen by the hypervisor and in all, in jiffies (from /proc/stat; null elsewhere). */
export function machineCpu() {
  try {
    // user nice system idle iowait irq softirq steal; guest time (after them) is already counted in user and nice.
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((sum, value) => sum + value, 0);
    return { busy: total - fields[3] - fields[4], steal: fields[7] ?? 0, total };
  } catch {
    return null;
  }
}

/** Other load above this share of the machine (as bench/run.js warns at) marks a run's figures noisy. */
export const NOISY_OTHER_PERCENT = 10;

/**
 * Starts watching the machine around a run; the function returned gives, since then, how busy the machine was (% of all
 * its cores), how much of that was other work (neither this process nor `pids`: other processes in the VM, and the
 * hypervisor's steal, which the VM counts busy) and the steal alone, and whether the other work makes the run noisy.
 * null off Linux.
 * @param {(number | undefined)[]} pids the benchmark's other processes (upstream, proxies)
 */
export function watchMachine(pids) {
  const ours = () => {
    const self = process.cpuUsage();
    let ms = (self.user + self.system) / 1000;
    for (const pid of pids) ms += (pid && procStats(pid)?.cpuMs) || 0;
    return ms;
  };
  const before = machineCpu();
  const oursBefore = ours();
  return () => {
    const after = machineCpu();
    if (!before || !after || after.total <= before.total) return null;
    // Jiffies are USER_HZ (100 a second) ticks: 10 ms each.
    const totalMs = (after.total - before.total) * 10;
    const percent = (/** @type {number} */ ms) => Math.round((1000 * ms) / totalMs) / 10;
    const busyMs = (after.busy - before.busy) * 10;
    const otherPercent = percent(Math.max(0, busyMs - (ours() - oursBefore)));
    return {
      machinePercent: percent(busyMs),
      otherPercent,
      stealPercent: percent((after.steal - before.steal) * 10),
      noisy: otherPercent > NOISY_OTHER_PERCENT,
    };
  };
}
