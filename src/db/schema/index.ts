export * from './users';
export * from './products';
export * from './licensing';
export * from './events';
export * from './analytics';
export * from './content';
export * from './notifications';
export * from './git';
