/** Tab titles as WordPress's "View details" modal writes them (install_plugin_information()). */
const TITLES: Record<string, string> = { description: 'Description', installation: 'Installation', faq: 'FAQ', screenshots: 'Screenshots', changelog: 'Changelog', reviews: 'Reviews', other_notes: 'Other Notes' };

export function sectionTitle(key: string): string {
  return Object.hasOwn(TITLES, key) ? TITLES[key]! : key.replace(/_/g, ' ').replace(/\b[a-z]/g, (c) => c.toUpperCase());
}
