/** Every way a photo gets in: camera, file chooser, drag and drop, paste. Calls `onImage` with the first image. */
export function bindImageInput(zone: HTMLElement, inputs: HTMLInputElement[], onImage: (image: File) => void): void {
  const take = (files: FileList | null | undefined): void => {
    const image = [...(files ?? [])].find((f) => f.type.startsWith('image/'));
    if (image) onImage(image);
  };
  for (const input of inputs) {
    input.addEventListener('change', () => {
      take(input.files);
      // Choosing the same file again must fire `change` again.
      input.value = '';
    });
  }
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    take(event.dataTransfer?.files);
  });
  document.addEventListener('paste', (event) => take(event.clipboardData?.files));
}
