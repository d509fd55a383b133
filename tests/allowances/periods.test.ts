import { describe, expect, it } from 'vitest';
import { addMonths, midnightIn, periodContaining, previousPeriod, todayIn, windowIn, type Segment } from '../../src/allowances/periods.ts';

const monthly: Segment[] = [{ start: '2026-01-31', kind: 'monthly' }];
const weekly: Segment[] = [{ start: '2026-03-02', kind: 'weekly' }];

describe('allowance periods', () => {
  it('when a monthly scheme starts on the 31st, then each period starts on the last day of shorter months', () => {
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(periodContaining(monthly, '2026-02-27')).toEqual({ start: '2026-01-31', end: '2026-02-28' });
    expect(periodContaining(monthly, '2026-02-28')).toEqual({ start: '2026-02-28', end: '2026-03-31' });
    expect(periodContaining(monthly, '2026-04-30')).toEqual({ start: '2026-04-30', end: '2026-05-31' });
  });

  it('when a date is before the first period, then it belongs to none', () => {
    expect(periodContaining(weekly, '2026-03-01')).toBeNull();
  });

  it('when a weekly period is looked up on its last day and the next, then the boundary falls on the seventh day', () => {
    expect(periodContaining(weekly, '2026-03-08')).toEqual({ start: '2026-03-02', end: '2026-03-09' });
    expect(periodContaining(weekly, '2026-03-09')).toEqual({ start: '2026-03-09', end: '2026-03-16' });
  });

  it('when the scheme changes from weekly to monthly, then the weekly period in progress ends where the new terms begin', () => {
    const changed: Segment[] = [{ start: '2026-03-02', kind: 'weekly' }, { start: '2026-04-01', kind: 'monthly' }];
    expect(periodContaining(changed, '2026-03-31')).toEqual({ start: '2026-03-30', end: '2026-04-01' });
    expect(periodContaining(changed, '2026-04-01')).toEqual({ start: '2026-04-01', end: '2026-05-01' });
    expect(previousPeriod(changed, { start: '2026-04-01', end: '2026-05-01' })).toEqual({ start: '2026-03-30', end: '2026-04-01' });
  });

  it("when the first period is paid, then 'the previous period' is the same length of time before it", () => {
    expect(previousPeriod(weekly, { start: '2026-03-02', end: '2026-03-09' })).toEqual({ start: '2026-02-23', end: '2026-03-02' });
    expect(previousPeriod([{ start: '2026-03-01', kind: 'monthly' }], { start: '2026-03-01', end: '2026-04-01' })).toEqual({ start: '2026-02-01', end: '2026-03-01' });
  });
});

describe('period boundaries in the learner’s time zone', () => {
  it('when a period begins, then for a learner in Jakarta it begins at Jakarta midnight, seven hours before UTC midnight', () => {
    expect(midnightIn('2026-03-01', 'Asia/Jakarta').toISOString()).toBe('2026-02-28T17:00:00.000Z');
    expect(midnightIn('2026-03-01', 'UTC').toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(windowIn({ start: '2026-03-01', end: '2026-04-01' }, 'Asia/Jakarta')).toEqual({
      from: new Date('2026-02-28T17:00:00Z'),
      to: new Date('2026-03-31T17:00:00Z'),
    });
  });

  it('when it is 23:30 on 28 February in UTC, then in Jakarta it is already 1 March', () => {
    const instant = new Date('2026-02-28T23:30:00Z');
    expect(todayIn('UTC', instant)).toBe('2026-02-28');
    expect(todayIn('Asia/Jakarta', instant)).toBe('2026-03-01');
  });

  it('when summer time begins or ends in the month, then midnight is still local midnight (Athens, Kabul, Kathmandu)', () => {
    expect(midnightIn('2026-04-01', 'Europe/Athens').toISOString()).toBe('2026-03-31T21:00:00.000Z'); // summer: UTC+3
    expect(midnightIn('2026-03-01', 'Europe/Athens').toISOString()).toBe('2026-02-28T22:00:00.000Z'); // winter: UTC+2
    expect(midnightIn('2026-03-29', 'Europe/Athens').toISOString()).toBe('2026-03-28T22:00:00.000Z'); // the day clocks go forward at 03:00
    expect(midnightIn('2026-03-01', 'Asia/Kabul').toISOString()).toBe('2026-02-28T19:30:00.000Z');
    expect(midnightIn('2026-03-01', 'Asia/Kathmandu').toISOString()).toBe('2026-02-28T18:15:00.000Z');
  });

  it('when a zone skips midnight itself, then the day begins at the first moment that exists', () => {
    // Asia/Beirut moved clocks from 00:00 to 01:00 on 29 March 2026.
    const start = midnightIn('2026-03-29', 'Asia/Beirut');
    expect(todayIn('Asia/Beirut', start)).toBe('2026-03-29');
    expect(todayIn('Asia/Beirut', new Date(start.getTime() - 1000))).toBe('2026-03-28');
  });
});
