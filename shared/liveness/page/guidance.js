// From what the in-browser detector saw in one camera frame to the one cue the person needs
// now. Pure functions, no DOM: node's test runner checks them (tests/liveness/guidance.test.mjs).
// All coordinates are in the camera's own (unmirrored) frame; the preview is only mirrored
// on screen. The page only guides: the server decides on the frames it receives.

// What each cue says (shown and announced as text).
export const CUES = {
  noFace: "We can't see a face. Look at the camera.",
  multipleFaces: "More than one face is in view. Only you should be in the picture.",
  tooDark: "It is too dark. Move to a brighter place or face a light.",
  moveCloser: "Move closer to the camera.",
  moveBack: "Move back a little.",
  centre: "Centre your face in the oval.",
  holdStill: "Hold still.",
  lookStraight: "Look straight at the camera.",
  turnLeft: "Turn your head to your left.",
  turnRight: "Turn your head to your right.",
  ok: "Good. Hold still.",
};

export const LIMITS = {
  darkLuma: 50, // mean luma (0-255) of the frame below which it is too dark
  minFaceToOval: 0.45, // face box width / oval width: smaller is too far
  maxFaceToOval: 1.3, // larger is too close
  offCentre: 0.45, // face centre off the oval centre, as a fraction of the oval's radius
  moved: 0.1, // face centre moved between two looks, as a fraction of the oval's width
  straightYaw: 0.15, // |yaw ratio| of a face looking about straight ahead (a turn of ~20 degrees: 0.17)
  turnYaw: 0.1, // yaw ratio change from the straight look that counts as a turn
  backYaw: 0.06, // yaw ratio change within which the face is straight again
};

// The part of the frame the preview shows: it fills a 3:4 box (object-fit: cover).
export function visibleArea(width, height) {
  const visibleWidth = Math.min(width, (height * 3) / 4);
  const visibleHeight = Math.min(height, (width * 4) / 3);
  return { left: (width - visibleWidth) / 2, top: (height - visibleHeight) / 2, width: visibleWidth, height: visibleHeight };
}

// The oval drawn over the preview (index.html's ellipse: cx 50%, cy 48%, rx 27%, ry 38%).
export function oval(width, height) {
  const area = visibleArea(width, height);
  return { cx: area.left + 0.5 * area.width, cy: area.top + 0.48 * area.height, rx: 0.27 * area.width, ry: 0.38 * area.height };
}

// How far the nose sits from the middle of the eyes, in eye distances: about 0 looking
// straight, positive when the face turns toward the frame's right (the person's own left),
// the sign convention of the server's yaw. Landmarks as YuNet gives them: two eyes, nose, two
// mouth corners.
export function yawRatio(face) {
  const [eyeA, eyeB, nose] = face.landmarks;
  const eyeDistance = Math.abs(eyeB[0] - eyeA[0]);
  return eyeDistance > 0 ? (nose[0] - (eyeA[0] + eyeB[0]) / 2) / eyeDistance : 0;
}

function centre(face) {
  return [face.x + face.width / 2, face.y + face.height / 2];
}

// The framing cue for one look: {width, height, luma, faces: [{x, y, width, height, landmarks}]}.
// `previous`: the face of the look before, to tell a moving face.
export function framingCue(look, previous) {
  if (look.luma < LIMITS.darkLuma) return "tooDark";
  if (look.faces.length === 0) return "noFace";
  if (look.faces.length > 1) return "multipleFaces";
  const [face] = look.faces;
  const guide = oval(look.width, look.height);
  const size = face.width / (2 * guide.rx);
  if (size < LIMITS.minFaceToOval) return "moveCloser";
  if (size > LIMITS.maxFaceToOval) return "moveBack";
  const [x, y] = centre(face);
  if (Math.abs(x - guide.cx) > LIMITS.offCentre * guide.rx || Math.abs(y - guide.cy) > LIMITS.offCentre * guide.ry) {
    return "centre";
  }
  if (previous) {
    const [px, py] = centre(previous);
    if (Math.hypot(x - px, y - py) > LIMITS.moved * 2 * guide.rx) return "holdStill";
  }
  return "ok";
}

// The cue for one look during a step of the capture. step.pose: "any" (passive: framing only),
// "straight" (the first look of an active check, which sets the baseline), "turnLeft",
// "turnRight", or "back" (straight again after a turn); `baseline`: the yaw ratio of the first
// straight frame.
export function cueFor(look, step, previous, baseline) {
  const framing = framingCue(look, previous);
  if (framing !== "ok" || step.pose === "any") return framing;
  const yaw = yawRatio(look.faces[0]);
  if (step.pose === "straight") return Math.abs(yaw) <= LIMITS.straightYaw ? "ok" : "lookStraight";
  const change = yaw - baseline;
  if (step.pose === "turnLeft") return change >= LIMITS.turnYaw ? "ok" : "turnLeft";
  if (step.pose === "turnRight") return change <= -LIMITS.turnYaw ? "ok" : "turnRight";
  return Math.abs(change) <= LIMITS.backYaw ? "ok" : "lookStraight";
}

// The capture steps for a session (the client route's GET answer): what to ask, how many
// frames, and how many good looks in a row before capturing. Turns have a patience: when a
// turn is not seen in time the frames are taken all the same, and the server decides.
export function plan(session) {
  const active = session.livenessOperationMode === "PassiveActive";
  const steps = [{ pose: active ? "straight" : "any", text: "Look straight at the camera.",
                   frames: active ? 2 : 3, settle: 3, wait: 1500, gap: 300 }];
  const turns = session.challenge || [];
  turns.forEach((turn, index) => {
    steps.push({ pose: turn, text: `Head turn ${index + 1} of ${turns.length}: ${CUES[turn].toLowerCase()}`, frames: 2,
                 settle: 1, wait: 900, gap: 250, patience: 10000 });
    steps.push({ pose: "back", text: "Look straight at the camera again.", frames: 1, settle: 1, wait: 800, gap: 0,
                 patience: 10000 });
  });
  return steps;
}
