/** Resident memory of another process, as the kernel reports it (Linux /proc); 0 once the process is gone. */
import { readFileSync } from 'node:fs';

export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
