"""Run CiCo on a video: draw the tracked instances into a new video and/or
export them.

    python tools/demo/video_demo.py INPUT CONFIG CHECKPOINT [--out out.mp4]
        [--out-json results.json] [--out-masks DIR] [--score-thr 0.3]
        [--device cuda:0] [--show] [--fps FPS] [--video-id 1]
        [--no-boxes] [--no-labels] [--no-scores] [--trust-checkpoint]
        [--track-labels K]

INPUT: a video file (anything OpenCV decodes), a folder of frames (sorted by
name) or a camera index (0). Masks, boxes, track ids, class names and scores
are drawn (--no-boxes / --no-labels / --no-scores hide them); the output keeps
the source fps (frame folders: --fps, default 6, YouTube-VIS annotates every
5th frame of 30 fps videos).

--out-json writes the video's YouTube-VIS results (a list, one entry per
track: video_id, category_id, score, segmentations: a compressed RLE per frame
or null), aggregated as the test metric does. --out-masks writes a uint16 PNG
per frame, DIR/<video name>/<frame:05d>.png: 0 is background, a track's pixels
are its id + 1 (the higher score wins where masks overlap).
--track-labels K: class-agnostic clip NMS, and in --out-json each track once
per each of its K best classes, scored by the mean of its class scores
(docs/track_labels.md; the default is the majority vote of the paper).
--device defaults to cuda when there is one. --trust-checkpoint sets
CICO_TRUST_CHECKPOINTS=1: load a checkpoint from a trusted source in full.
"""
import argparse
import json
import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

import cv2  # noqa: E402
import torch  # noqa: E402
from tqdm import tqdm  # noqa: E402

import projects.cico.apis as cico_apis  # noqa: E402
from projects.cico.apis.inference import instance_id_map  # noqa: E402
from projects.cico.visualization import draw_track_instances  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='CiCo video demo')
    p.add_argument('input', help='video file, frame folder or camera index')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', help='output video (.mp4)')
    p.add_argument('--out-json', help='YouTube-VIS results json')
    p.add_argument('--out-masks', help='folder of per-frame id PNG maps')
    p.add_argument('--video-id', type=int, default=1, help='json video_id')
    p.add_argument('--score-thr', type=float, default=0.3)
    p.add_argument(
        '--track-labels',
        type=int,
        metavar='K',
        help='class-agnostic clip NMS and, in --out-json, K results per '
        'track: its K best classes of its mean class scores '
        '(docs/track_labels.md)')
    p.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='default: cuda when there is one, else cpu')
    p.add_argument(
        '--fps',
        type=float,
        default=None,
        help='output fps (default: the source fps, or 6)')
    p.add_argument('--show', action='store_true', help='show in a window')
    p.add_argument('--no-boxes', action='store_true', help='hide boxes')
    p.add_argument(
        '--no-labels', action='store_true', help='hide ids and classes')
    p.add_argument('--no-scores', action='store_true', help='hide scores')
    p.add_argument(
        '--backend',
        choices=('pytorch', 'onnxruntime'),
        default='pytorch',
        help='what runs the clip network; onnxruntime needs --onnx '
        '(post-processing is PyTorch either way)')
    p.add_argument(
        '--onnx',
        help='the clip network exported by tools/deployment/export_onnx.py '
        '(with --backend onnxruntime)')
    p.add_argument(
        '--fp16',
        action='store_true',
        help='PyTorch backend: the network in half precision (float16 on '
        'CUDA, bfloat16 on the CPU)')
    p.add_argument(
        '--fuse-conv-bn',
        action='store_true',
        help='PyTorch backend: fold batch norms into the convs before them '
        '(same results, one pass less per BN; docs/speed.md)')
    p.add_argument(
        '--channels-last',
        action='store_true',
        help='PyTorch backend: conv weights in channels-last memory format '
        '(same results; docs/speed.md)')
    p.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='the checkpoint is trusted (sets CICO_TRUST_CHECKPOINTS=1)')
    args = p.parse_args(argv)
    if not (args.out or args.show or args.out_json or args.out_masks):
        p.error('nothing to do: give --out, --show, --out-json and/or '
                '--out-masks')
    if args.track_labels is not None and args.track_labels < 1:
        p.error('--track-labels needs K >= 1')
    if (args.backend == 'onnxruntime') != (args.onnx is not None):
        p.error('--backend onnxruntime and --onnx FILE go together')
    if args.onnx and not osp.isfile(args.onnx):
        p.error(f'--onnx {args.onnx} does not exist')
    return args


def video_name(source: str) -> str:
    """The name of the mask folder: the file or folder name, or camera<i>."""
    if source.isdigit():
        return f'camera{source}'
    return osp.splitext(osp.basename(osp.normpath(source)))[0]


class VideoSink:
    """The output video, opened at the first frame's size."""

    def __init__(self, path: str, fps: float) -> None:
        self.path, self.fps, self.writer = path, fps, None

    def write(self, frame) -> None:
        if self.writer is None:
            os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
            h, w = frame.shape[:2]
            self.writer = cv2.VideoWriter(self.path,
                                          cv2.VideoWriter_fourcc(*'mp4v'),
                                          self.fps, (w, h))
            if not self.writer.isOpened():
                sys.exit(f'cannot write video {self.path}')
        self.writer.write(frame)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()


def process(args, inferencer, frames, classes, sink) -> int:
    """Draw / show / write the masks of every frame; the frame count."""
    switches = dict(
        show_boxes=not args.no_boxes,
        show_labels=not args.no_labels,
        show_scores=not args.no_scores)
    mask_dir = None
    if args.out_masks:
        mask_dir = osp.join(args.out_masks, video_name(str(args.input)))
        os.makedirs(mask_dir, exist_ok=True)
    count = 0
    for res in tqdm(inferencer.stream_frames(frames), unit='frame'):
        if mask_dir:
            cv2.imwrite(
                osp.join(mask_dir, f'{res.frame_index:05d}.png'),
                instance_id_map(res.instances))
        if sink or args.show:
            drawn = draw_track_instances(res.image, res.instances, classes,
                                         **switches)
        if sink:
            sink.write(drawn)
        if args.show:
            cv2.imshow('CiCo', drawn)
            if cv2.waitKey(1) & 0xFF == 27:  # Esc
                break
        count += 1
    return count


def write_json(path: str, results: list) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(results, f)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        sys.exit(f'checkpoint {args.checkpoint} does not exist')
    if args.trust_checkpoint:  # before loading: full unpickling opt-in
        os.environ['CICO_TRUST_CHECKPOINTS'] = '1'
    try:
        frames, src_fps = cico_apis.open_source(args.input)
    except (IOError, FileNotFoundError) as err:
        sys.exit(f'cannot read the input: {err}')
    model = cico_apis.init_model(args.config, args.checkpoint, args.device)
    classes = model.dataset_meta.get('classes') or ()
    if args.track_labels:  # one track per object, every label scored
        model.test_cfg['nms'] = dict(
            model.test_cfg.get('nms', {}), class_agnostic=True)
    inferencer = cico_apis.VideoInferencer(
        model,
        score_thr=args.score_thr,
        fp16=args.fp16 or None,
        onnx_file=args.onnx,
        fuse_conv_bn=args.fuse_conv_bn,
        channels_last=args.channels_last)
    fps = args.fps or src_fps or 6.0
    sink = VideoSink(args.out, fps) if args.out else None
    try:
        count = process(args, inferencer, frames, classes, sink)
    finally:
        if sink:
            sink.close()
    if args.out_json:
        results = inferencer.to_vis_json(
            video_id=args.video_id, labels_per_track=args.track_labels)
        write_json(args.out_json, results)
        print(f'{len(results)} results written to {args.out_json}')
    print(f'{count} frames processed' +
          (f', written to {args.out} at {fps:g} fps' if args.out else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
