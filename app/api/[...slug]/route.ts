import { withPublic } from "@/lib/http/route";
import { ApiError } from "@/lib/errors";

// Unknown API paths answer in the API's own error shape instead of an HTML 404 page.
const notFound = withPublic(async () => {
  throw new ApiError("not_found", "No such API route.");
});

export { notFound as GET, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE };
