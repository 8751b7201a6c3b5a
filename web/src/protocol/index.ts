// The protocol client: everything that knows the wire format. Views use
// ChatClient (over WebTransport or WebSocket, transport.ts) and Api (REST)
// and nothing below them.
export * from './ids';
export * from './types';
export * from './frames';
export * from './merge';
export * from './backoff';
export * from './cursors';
export * from './outbox';
export * from './client';
export * from './wtframes';
export * from './wt';
export * from './transport';
export * from './rest';
export * from './search';
