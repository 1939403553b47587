"""Run CiCo on a video and write the tracked instances into a new video.

    python tools/demo/video_demo.py INPUT CONFIG CHECKPOINT --out out.mp4
        [--score-thr 0.3] [--device cpu] [--show] [--fps FPS]

INPUT: a video file (anything OpenCV decodes), a folder of frames (sorted by
name) or a camera index (0). Masks, boxes, track ids, class names and scores
are drawn; the output keeps the source fps (frame folders: --fps, default 6,
YouTube-VIS annotates every 5th frame of 30 fps videos).
"""
import argparse
import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

import cv2  # noqa: E402
from tqdm import tqdm  # noqa: E402

import projects.cico.apis as cico_apis  # noqa: E402
from projects.cico.visualization import draw_track_instances  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='CiCo video demo')
    p.add_argument('input', help='video file, frame folder or camera index')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', help='output video (.mp4)')
    p.add_argument('--score-thr', type=float, default=0.3)
    p.add_argument('--device', default='cpu')
    p.add_argument(
        '--fps',
        type=float,
        default=None,
        help='output fps (default: the source fps, or 6)')
    p.add_argument('--show', action='store_true', help='show in a window')
    args = p.parse_args(argv)
    if not args.out and not args.show:
        p.error('nothing to do: give --out and/or --show')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        sys.exit(f'checkpoint {args.checkpoint} does not exist')
    try:
        frames, src_fps = cico_apis.open_source(args.input)
    except (IOError, FileNotFoundError) as err:
        sys.exit(f'cannot read the input: {err}')
    model = cico_apis.init_model(args.config, args.checkpoint, args.device)
    classes = model.dataset_meta.get('classes') or ()
    inferencer = cico_apis.VideoInferencer(model, score_thr=args.score_thr)
    fps = args.fps or src_fps or 6.0
    writer = None
    count = 0
    for res in tqdm(inferencer.stream_frames(frames), unit='frame'):
        drawn = draw_track_instances(res.image, res.instances, classes)
        if args.out:
            if writer is None:
                os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
                h, w = drawn.shape[:2]
                writer = cv2.VideoWriter(args.out,
                                         cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                         (w, h))
                if not writer.isOpened():
                    sys.exit(f'cannot write video {args.out}')
            writer.write(drawn)
        if args.show:
            cv2.imshow('CiCo', drawn)
            if cv2.waitKey(1) & 0xFF == 27:  # Esc
                break
        count += 1
    if writer is not None:
        writer.release()
    print(f'{count} frames processed' +
          (f', written to {args.out} at {fps:g} fps' if args.out else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
