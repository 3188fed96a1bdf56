export * from './users';
export * from './products';
export * from './licensing';
export * from './events';
export * from './accounts';
