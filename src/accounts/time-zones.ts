/**
 * Time zones offered in the profile: where Dars's programmes run and where learners come from.
 * A learner elsewhere keeps whatever zone they already have.
 */
export const COMMON_TIME_ZONES = [
  'UTC', 'Europe/Athens', 'Europe/Istanbul', 'Europe/Kyiv', 'Europe/Berlin', 'Europe/Paris', 'Europe/Rome', 'Europe/Madrid',
  'Europe/London', 'Asia/Jakarta', 'Asia/Makassar', 'Asia/Kuala_Lumpur', 'Asia/Bangkok', 'Asia/Kabul', 'Asia/Tehran',
  'Asia/Karachi', 'Asia/Dhaka', 'Asia/Yangon', 'Asia/Baghdad', 'Asia/Damascus', 'Asia/Beirut', 'Asia/Amman',
  'Asia/Riyadh', 'Africa/Cairo', 'Africa/Khartoum', 'Africa/Addis_Ababa', 'Africa/Mogadishu', 'Africa/Nairobi',
  'Africa/Lagos', 'Africa/Kinshasa', 'America/New_York',
];
