export * from './oip';
export * from './oip-codec';
export * from './v1';
export * from './accept';
export * from './headers';
export * from './server-timing';
