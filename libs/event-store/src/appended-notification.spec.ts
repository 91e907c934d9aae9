// The NOTIFY payload names the categories an append wrote, so a reader of other categories is not
// woken; a bare schema (older writers, too many categories to name) still wakes every reader.
import { appendedNotificationPayload, notificationConcerns } from './event-store.sql.js';

describe('appendedNotificationPayload', () => {
  it('names each category once, sorted, after the schema', () => {
    expect(appendedNotificationPayload('event_store', ['transfer', 'account', 'transfer', 'hold'])).toBe('event_store:account,hold,transfer');
  });

  it('is the bare schema when there is no category or too many to name', () => {
    expect(appendedNotificationPayload('event_store', [])).toBe('event_store');
    const many = Array.from({ length: 200 }, (_, index) => `category_${index}`);
    expect(appendedNotificationPayload('event_store', many)).toBe('event_store');
  });
});

describe('notificationConcerns', () => {
  it('wakes a reader of a named category, and a reader of every category', () => {
    expect(notificationConcerns('event_store:account,hold', 'event_store', ['hold'])).toBe(true);
    expect(notificationConcerns('event_store:account,hold', 'event_store', ['payment', 'account'])).toBe(true);
    expect(notificationConcerns('event_store:account,hold', 'event_store', undefined)).toBe(true);
  });

  it('does not wake a reader of other categories, nor one whose category only shares a prefix', () => {
    expect(notificationConcerns('event_store:account,hold', 'event_store', ['payment'])).toBe(false);
    expect(notificationConcerns('event_store:payment_x', 'event_store', ['payment'])).toBe(false);
  });

  it('wakes every reader on a bare schema, and none of another schema', () => {
    expect(notificationConcerns('event_store', 'event_store', ['payment'])).toBe(true);
    expect(notificationConcerns('other', 'event_store', undefined)).toBe(false);
    expect(notificationConcerns('event_store_2:payment', 'event_store', ['payment'])).toBe(false);
    expect(notificationConcerns('', 'event_store', ['payment'])).toBe(false);
  });
});
