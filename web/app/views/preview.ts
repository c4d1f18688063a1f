import type { OcrLine } from '../../../core/ocr/types';

/** Longest side the preview canvas keeps; the photo itself is sent at full size. */
const PREVIEW_MAX_SIDE = 1600;

export interface DrawOptions {
  /** Draw the line boxes at all (the overlay can be hidden). */
  boxes?: boolean;
  /** Index of the line to highlight. */
  selected?: number;
}

/** Shows the chosen photo on a canvas and draws recognised line boxes over it; finds the line under a tap. */
export class Preview {
  private bitmap: ImageBitmap | undefined;
  private lines: OcrLine[] = [];
  private imageSize = { width: 1, height: 1 };

  constructor(private readonly canvas: HTMLCanvasElement) {}

  async show(image: Blob): Promise<void> {
    this.bitmap?.close();
    this.bitmap = await createImageBitmap(image, { imageOrientation: 'from-image' });
    const scale = Math.min(1, PREVIEW_MAX_SIDE / Math.max(this.bitmap.width, this.bitmap.height));
    this.canvas.width = Math.round(this.bitmap.width * scale);
    this.canvas.height = Math.round(this.bitmap.height * scale);
    this.canvas.hidden = false;
    this.draw([], { width: this.bitmap.width, height: this.bitmap.height });
  }

  /** Size of the photo shown (as decoded, orientation applied); undefined before the first. */
  get size(): { width: number; height: number } | undefined {
    return this.bitmap ? { width: this.bitmap.width, height: this.bitmap.height } : undefined;
  }

  /** `imageSize` is the size the boxes are measured in (the decoded original); lines are numbered in the given order. */
  draw(lines: OcrLine[], imageSize: { width: number; height: number }, options: DrawOptions = {}): void {
    this.lines = lines;
    this.imageSize = imageSize;
    const context = this.canvas.getContext('2d');
    if (!context || !this.bitmap) return;
    context.drawImage(this.bitmap, 0, 0, this.canvas.width, this.canvas.height);
    if (options.boxes === false) return;
    const sx = this.canvas.width / imageSize.width;
    const sy = this.canvas.height / imageSize.height;
    const stroke = Math.max(2, Math.round(Math.max(this.canvas.width, this.canvas.height) / 400));
    context.font = `bold ${stroke * 7}px system-ui, sans-serif`;
    context.textBaseline = 'bottom';
    lines.forEach((line, i) => {
      const selected = i === options.selected;
      context.lineWidth = selected ? stroke * 2.5 : stroke;
      context.beginPath();
      line.box.forEach(([x, y], k) => (k === 0 ? context.moveTo(x * sx, y * sy) : context.lineTo(x * sx, y * sy)));
      context.closePath();
      if (selected) {
        context.fillStyle = 'rgba(255, 214, 0, 0.35)';
        context.fill();
      }
      context.strokeStyle = selected ? '#b45309' : line.rotated ? '#d97706' : '#e0006b';
      context.stroke();
      const [x, y] = line.box[0];
      const label = String(i + 1);
      const width = context.measureText(label).width + stroke * 2;
      context.fillStyle = selected ? '#b45309' : '#e0006b';
      context.fillRect(x * sx, y * sy - stroke * 8, width, stroke * 8);
      context.fillStyle = '#fff';
      context.fillText(label, x * sx + stroke, y * sy);
    });
  }

  /** Index of the drawn line whose box holds the point (client coordinates), or -1. */
  lineAt(clientX: number, clientY: number): number {
    const rect = this.canvas.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) return -1;
    const x = ((clientX - rect.left) / rect.width) * this.imageSize.width;
    const y = ((clientY - rect.top) / rect.height) * this.imageSize.height;
    return this.lines.findIndex((line) => inside(line.box, x, y));
  }
}

/** Ray casting over the quadrilateral. */
function inside(box: OcrLine['box'], x: number, y: number): boolean {
  let hit = false;
  for (let i = 0, j = box.length - 1; i < box.length; j = i++) {
    const [xi, yi] = box[i]!;
    const [xj, yj] = box[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}
