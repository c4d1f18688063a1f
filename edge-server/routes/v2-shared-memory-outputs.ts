/** Requested outputs that go to shared memory regions instead of the reply (Triton's system shared memory extension). */
import type { ManifestModel } from '../../core/models/manifest';
import {
  DATATYPE_BYTES,
  SHARED_MEMORY_BYTE_SIZE,
  SHARED_MEMORY_OFFSET,
  SHARED_MEMORY_REGION,
  elementCount,
  type SharedMemoryRef,
  type Tensor,
} from '../../core/protocol/oip';
import { tensorBytes } from '../../core/protocol/oip-codec';
import { ServerError } from '../http/errors';
import type { SharedMemoryRegistry } from '../oip/shared-memory';

const tooSmall = (name: string, need: number, ref: SharedMemoryRef, shape: string) =>
  new ServerError(
    'BadRequest',
    `output ${name} ${shape}needs ${need} bytes, but shared_memory_byte_size gives ${ref.byteSize} at offset ${ref.offset} of region '${ref.region}'`,
  );

/**
 * Before the run: every region is registered and holds its window, and an output whose size the model fixes fits
 * its window, so no model time is spent on a request whose outputs cannot be delivered.
 */
export function checkOutputRegions(registry: SharedMemoryRegistry, model: ManifestModel, regions: Map<string, SharedMemoryRef>): void {
  for (const [name, ref] of regions) {
    registry.window(ref.region, ref.offset, ref.byteSize, `output ${name}`);
    const spec = model.outputs.find((o) => o.name === name);
    if (!spec || spec.datatype === 'BYTES' || spec.shape.some((d) => d < 0)) continue;
    const need = elementCount(spec.shape) * DATATYPE_BYTES[spec.datatype];
    if (need > ref.byteSize) throw tooSmall(name, need, ref, `[${spec.shape.join(',')}] `);
  }
}

/**
 * After the run: writes the outputs into their regions and marks them so the reply carries their place instead of
 * their data. All sizes are checked before anything is written.
 */
export function writeOutputRegions(registry: SharedMemoryRegistry, regions: Map<string, SharedMemoryRef>, outputs: Tensor[]): void {
  const writes = outputs.flatMap((t) => {
    const ref = regions.get(t.name);
    if (!ref) return [];
    const bytes = tensorBytes(t);
    if (bytes.length > ref.byteSize) throw tooSmall(t.name, bytes.length, ref, `of shape [${t.shape.join(',')}] `);
    return [{ t, ref, bytes }];
  });
  for (const { t, ref, bytes } of writes) {
    registry.write(ref.region, ref.offset, bytes, `output ${t.name}`);
    t.parameters = { ...t.parameters, [SHARED_MEMORY_REGION]: ref.region, [SHARED_MEMORY_BYTE_SIZE]: bytes.length };
    if (ref.offset !== 0) t.parameters[SHARED_MEMORY_OFFSET] = ref.offset;
  }
}
