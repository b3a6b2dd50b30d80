"""The size and quality of a shot's thumbnail in the build report.

Its own module because two kinds read it: ``segment`` takes the thumbnail
as it renders a shot (``ffmpeg/detect.py``), and ``report_media`` records
its width. A kind
is keyed on the backend modules it imports, so the report's kind imports this
small module rather than QC's.
"""

THUMB_WIDTH = 192  # px: the report's contact sheet wants many small pictures
JPEG_QUALITY = 5  # mjpeg -q:v (2 best .. 31 worst): ~5 KB a thumbnail at 192 px
