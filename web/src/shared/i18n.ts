// One i18n instance per page: 简体中文 unless the user chose English, which is remembered.
import { createI18n } from 'vue-i18n'
import zhCN from './locales/zh-CN'
import en from './locales/en'
import type { Locale } from './format'
import { ApiError, type FieldProblem } from './api'

const STORAGE_KEY = 'chargemesh.locale'

export function savedLocale(): Locale {
  return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: savedLocale(),
  fallbackLocale: 'en',
  messages: { 'zh-CN': zhCN, en },
})

export function setLocale(locale: Locale): void {
  localStorage.setItem(STORAGE_KEY, locale)
  i18n.global.locale.value = locale
  document.documentElement.lang = locale
}

/** An error as the user reads it: the translated meaning of its code, the API's words after it. */
export function describeError(error: unknown): string {
  const t = i18n.global.t
  if (error instanceof ApiError) {
    const key = `errors.${error.code}`
    const meaning = i18n.global.te(key) ? t(key) : t('errors.internal')
    return error.message && error.code !== 'network' ? `${meaning}（${error.message}）` : meaning
  }
  return t('errors.internal')
}

/** A field problem in the page's language: the node says it in English, with the values involved;
 *  in 简体中文 its kind is translated where the node names one. */
export function describeFieldProblem(problem: FieldProblem): string {
  const key = `fieldProblems.${problem.code}`
  return i18n.global.locale.value !== 'en' && problem.code && i18n.global.te(key) ? i18n.global.t(key) : problem.problem
}
