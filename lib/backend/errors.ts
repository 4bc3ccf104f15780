import { ApiError } from "../errors";

/** The engine does not answer: a 503 that promises nothing was changed (the code keeps its API name). */
export function engineUnavailable(): ApiError {
  return new ApiError("docker_unavailable", "The Docker engine is not reachable right now; nothing was changed. Try again shortly.");
}
