// baseline_rtsp_server: the fan-out benchmark's reference, stock
// gst-rtsp-server as its test-launch example serves a stream: one shared
// media from a launch line, nothing of ours on the send path. The accept
// backlog is raised so that the comparison is of the media path, not of the
// listen queue (test-launch keeps gst's default of 5).
//
//   baseline_rtsp_server PORT PATH "( videotestsrc ... ! rtph264pay name=pay0 )"
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s PORT PATH LAUNCH\n", argv[0]);
    return 2;
  }
  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  GstRTSPServer* server = gst_rtsp_server_new();
  gst_rtsp_server_set_service(server, argv[1]);
  gst_rtsp_server_set_address(server, "127.0.0.1");
  gst_rtsp_server_set_backlog(server, 4096);
  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(factory, argv[3]);
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server);
  gst_rtsp_mount_points_add_factory(mounts, argv[2], factory);
  g_object_unref(mounts);
  if (gst_rtsp_server_attach(server, nullptr) == 0) {
    std::fprintf(stderr, "cannot listen on 127.0.0.1:%s\n", argv[1]);
    return 1;
  }
  std::printf("baseline serving rtsp://127.0.0.1:%s%s\n", argv[1], argv[2]);
  std::fflush(stdout);
  g_main_loop_run(loop);
  return 0;
}
