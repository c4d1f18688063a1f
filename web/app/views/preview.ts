import type { OcrLine } from '../../../core/ocr/types';

/** Longest side the preview canvas keeps; the photo itself is sent at full size. */
const PREVIEW_MAX_SIDE = 1600;

/** Shows the chosen photo on a canvas and draws recognised line boxes over it. */
export class Preview {
  private bitmap: ImageBitmap | undefined;

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

  /** `imageSize` is the size the boxes are measured in (the decoded original). */
  draw(lines: OcrLine[], imageSize: { width: number; height: number }): void {
    const context = this.canvas.getContext('2d');
    if (!context || !this.bitmap) return;
    context.drawImage(this.bitmap, 0, 0, this.canvas.width, this.canvas.height);
    const sx = this.canvas.width / imageSize.width;
    const sy = this.canvas.height / imageSize.height;
    const stroke = Math.max(2, Math.round(Math.max(this.canvas.width, this.canvas.height) / 400));
    context.lineWidth = stroke;
    context.font = `bold ${stroke * 7}px system-ui, sans-serif`;
    context.textBaseline = 'bottom';
    lines.forEach((line, i) => {
      context.strokeStyle = line.rotated ? '#d97706' : '#e0006b';
      context.beginPath();
      line.box.forEach(([x, y], k) => (k === 0 ? context.moveTo(x * sx, y * sy) : context.lineTo(x * sx, y * sy)));
      context.closePath();
      context.stroke();
      const [x, y] = line.box[0];
      const label = String(i + 1);
      const width = context.measureText(label).width + stroke * 2;
      context.fillStyle = '#e0006b';
      context.fillRect(x * sx, y * sy - stroke * 8, width, stroke * 8);
      context.fillStyle = '#fff';
      context.fillText(label, x * sx + stroke, y * sy);
    });
  }
}
