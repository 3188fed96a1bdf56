/** The bytes are not a zip we can read safely; the message is a sentence a vendor can act on. */
export class ZipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}
