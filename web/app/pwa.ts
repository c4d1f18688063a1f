import { registerSW } from 'virtual:pwa-register';

interface BeforeInstallPromptEvent extends Event {
  prompt(): Promise<void>;
  userChoice: Promise<{ outcome: 'accepted' | 'dismissed' }>;
}

export interface PwaViews {
  install: HTMLButtonElement;
  update: HTMLElement;
  updateReload: HTMLButtonElement;
  offlineBadge: HTMLElement;
}

/**
 * Installation and updates: an Install button where the browser offers `beforeinstallprompt`, a "new version ready"
 * prompt when a new service worker waits (vite-plugin-pwa's prompt flow: it takes over only when the person reloads,
 * so a photo being read is never cut off), and an Offline badge.
 */
export function setupPwa(v: PwaViews, onChange: () => void): void {
  const updateSW = registerSW({
    immediate: true,
    onNeedRefresh() {
      v.update.hidden = false;
    },
    onOfflineReady: onChange,
  });
  v.updateReload.addEventListener('click', () => {
    v.updateReload.disabled = true;
    void updateSW(true);
  });

  let deferred: BeforeInstallPromptEvent | undefined;
  addEventListener('beforeinstallprompt', (event) => {
    event.preventDefault();
    deferred = event as BeforeInstallPromptEvent;
    v.install.hidden = false;
  });
  v.install.addEventListener('click', async () => {
    if (!deferred) return;
    const prompt = deferred;
    deferred = undefined;
    v.install.hidden = true;
    await prompt.prompt();
    await prompt.userChoice.catch(() => undefined);
  });
  addEventListener('appinstalled', () => {
    deferred = undefined;
    v.install.hidden = true;
  });

  const online = (): void => {
    v.offlineBadge.hidden = navigator.onLine;
    onChange();
  };
  addEventListener('online', online);
  addEventListener('offline', online);
  online();
  navigator.serviceWorker?.addEventListener('controllerchange', onChange);
}
