import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { EvidenceHeader, EvidenceSink, UserEvidence } from './evidence.js';
import { addToTotals, emptyTotals, jsonHead, jsonTail, jsonUsers, textHead, textTail, textUsers } from './evidence-report.js';

/**
 * Writes the evidence report to `out` as it is read, a batch of users at a time, waiting whenever `out` is
 * full; `finish` writes the totals (or the line saying nothing is on record).
 */
export function evidenceWriter(out: Writable, json: boolean): EvidenceSink & { finish(): Promise<void> } {
  let header: EvidenceHeader | undefined;
  const totals = emptyTotals();
  const write = async (text: string) => {
    if (text && !out.write(text)) await once(out, 'drain');
  };
  return {
    async begin(h: EvidenceHeader) {
      header = h;
      await write(json ? jsonHead(h) : textHead(h));
    },
    async users(batch: UserEvidence[]) {
      const first = totals.users === 0;
      addToTotals(totals, batch);
      await write(json ? jsonUsers(batch, first) : textUsers(batch, header!.generatedAt));
    },
    async finish() {
      if (header) await write(json ? jsonTail(totals) : textTail(header, totals));
    },
  };
}

