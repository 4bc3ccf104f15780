// What the API may say about a user: never the password hash.
export type UserView = { id: string; email: string; name: string; role: "admin" | "user"; disabled: boolean; createdAt: Date };

export function toUserView(u: { id: string; email: string; name: string; role: string; disabled: boolean; createdAt: Date }): UserView {
  return { id: u.id, email: u.email, name: u.name, role: u.role === "admin" ? "admin" : "user", disabled: u.disabled, createdAt: u.createdAt };
}
