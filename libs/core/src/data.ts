/** An image known only by its id, and its labels: what the image-label model and its evaluation read. */
export interface LabeledImage {
  id: string;
  labels: string[];
}
