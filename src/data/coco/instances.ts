/**
 * The COCO object-detection format, as read from an instances JSON (ground truth) and a results list
 * (detections). Boxes are `[x, y, width, height]` in pixels, origin at the image's top-left corner.
 * These types are what every detection part reads: the COCO evaluation, the detection data pipeline,
 * the shapes generator (which writes them) and the detectors' outputs.
 */

/** `[x, y, width, height]`, pixels. */
export type CocoBox = [number, number, number, number];

/**
 * An image of a COCO instances file: its id, size in pixels, and file name (relative to the images
 * folder).
 */
export interface CocoImage {
  id: number;
  width: number;
  height: number;
  file_name: string;
}

/** A category of a COCO instances file. */
export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
}

/** A ground-truth object. `area` is what the evaluation's small/medium/large ranges read (not the box's). */
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: CocoBox;
  area: number;
  /** 1 for a crowd region: matched by any number of detections, never counted as missed. */
  iscrowd: 0 | 1;
}

/** A ground-truth file: images, their annotations and the categories. */
export interface CocoInstances {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
}

/** One detection of a results list. */
export interface CocoDetection {
  image_id: number;
  category_id: number;
  bbox: CocoBox;
  score: number;
}
