// Runs a command with inherited stdio (so a terminal stays a terminal) and writes what it cost to a JSON file:
//   node bench/lib/cpu-wrap.js OUT.json CMD [ARGS...]
// CPU is the children's user + system time from /proc/self/stat (cutime, cstime), so only Linux reports it.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const [out, command, ...args] = process.argv.slice(2);
if (!out || !command) {
  process.stderr.write('usage: node bench/lib/cpu-wrap.js OUT.json CMD [ARGS...]\n');
  process.exit(2);
}

function childrenCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // After the command name (which may hold spaces) comes field 3, so field N is at index N - 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[16 - 3]) + Number(fields[17 - 3]); // cutime, cstime
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

const started = Date.now();
const child = spawn(command, args, { stdio: 'inherit' });
// Forward the signals a terminal would send, so the child rolls back cleanly.
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  writeFileSync(out, JSON.stringify({ exitCode: code, signal, cpuMs: childrenCpuMs(), wallMs: Date.now() - started }));
  process.exit(code ?? 1);
});
