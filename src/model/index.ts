/** The data-model room: DynamoDB's types, errors, numbers, validation, key encoding, sizes, capacity. */
export * from './types.js';
export * from './errors.js';
export * from './number.js';
export * from './validate.js';
export * from './item-size.js';
export * from './capacity.js';
export * from './hash.js';
export * from './key-encoding.js';
export * from './tags.js';
