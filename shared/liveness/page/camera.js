// The front camera: open it into the preview <video>, take a still of what it shows (the
// camera's own, unmirrored picture: the preview is only mirrored on screen), encode a still
// as the JPEG the client route receives, and close it.

export async function openCamera(video) {
  // A native camera format near 640x480, never rescaled by the browser to fit the ideal size
  // (that can stretch a portrait picture into a landscape frame and misplace the face).
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: false, video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 }, resizeMode: "none" } });
  video.srcObject = stream;
  await new Promise((resolve) => {
    if (video.readyState >= 2) resolve(); else video.onloadeddata = () => resolve();
  });
  return stream;
}

export function closeCamera(stream) {
  if (stream) stream.getTracks().forEach((track) => track.stop());
}

export function still(video) {
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return canvas;
}

export function jpeg(canvas) {
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
}
